"""SignAffect: an embedded analytics warehouse for emotion and grammar on the ASL face."""
