with

source as (
    select * from {{ source('signstream', 'signstream_participants') }}
),

final as (
    select
        source_file,
        participant_id,
        trim(name) as signer_name,
        lower(regexp_replace(trim(name), '[^A-Za-z0-9]+', '-', 'g')) as signer_id,
        nullif(trim(label), '') as participant_label,
        nullif(trim(age), '') as age,
        nullif(trim(gender), '') as gender,
        nullif(trim(language), '') as language,
    from source
)

select * from final
