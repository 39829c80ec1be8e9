"""Geography: ZIP codes, distances and a ring-by-ring index of points.

`zips` maps a ZIP code to its centroid, state and time zone (the shipped
table); `distance` measures (geodesic for what is shown, a sphere for the
search); `index` finds points outward from an origin. May import `domain`
and `errors` only (it uses `errors`): never its siblings `wire`, `rules`,
`extend` and `reports`, nor any layer above.
"""
