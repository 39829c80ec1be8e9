"""Matching: which agents may take a request, nearest first (E1-E12, A1-A4).

`matcher` searches the buckets (`buckets`, `placement`) ring by ring from the
consumer's ZIP; `availability` decides open hours in the agent's zone;
`ranking` breaks ties; `verdicts` names the rule that excludes each agent
(`--explain`); `local_help` is Find Local Help (D1-D3). Imports `domain`,
`wire`, `geo`, `rules` and `errors`, and may import any layer below it
(`extend`, `reports`); never `notify` (its sibling), `lifecycle` or anything
above.
"""
