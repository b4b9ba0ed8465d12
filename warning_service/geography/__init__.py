"""The region's geography: CAP areas to the counties and townships they reach, the county map and
the search of county names (with pinyin)."""
