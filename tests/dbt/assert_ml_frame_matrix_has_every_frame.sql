-- Assert that ml_frame_matrix has exactly the frames of fct_frames: no frame is dropped
-- (frames without input features are all-zero rows) and none is invented.
with

matrix as (
    select * from {{ ref('ml_frame_matrix') }}
),

frames as (
    select * from {{ ref('fct_frames') }}
),

missing as (
    select source_file, utterance_id, frame_index, 'missing from ml_frame_matrix' as problem,
    from frames
    anti join matrix using (source_file, utterance_id, frame_index)
),

extra as (
    select source_file, utterance_id, frame_index, 'not in fct_frames' as problem,
    from matrix
    anti join frames using (source_file, utterance_id, frame_index)
),

final as (
    select * from missing
    union all
    select * from extra
)

select * from final
