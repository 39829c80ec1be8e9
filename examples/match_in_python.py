"""Embedding the matcher in a CRM: load agents, match a consumer, explain.

python examples/match_in_python.py
"""

from datetime import datetime
from pathlib import Path

from hod_core import Agent, Consumer, Matcher, load_policy, read_json, read_jsonl

HERE = Path(__file__).parent


def main() -> None:
    matcher = Matcher(load_policy())  # the shipped rule file; pass a path for your own
    matcher.add_many(agent for _, agent in read_jsonl(HERE / "agents.jsonl", Agent))
    consumer = read_json(HERE / "consumer.json", Consumer)
    at = datetime.fromisoformat("2026-11-23T15:00:00-06:00")

    result = matcher.match(consumer, at, limit=3, explain=True)
    for place, entry in enumerate(result.queue, start=1):
        agent = matcher.agent(entry.npn)
        print(
            f"{place}. {agent.first_name} {agent.last_name} (NPN {entry.npn}), {entry.distance_km:.1f} km"
        )
    rules = {rule.id: rule.description for rule in matcher.policy.rules}
    for npn, rule_id in sorted(result.excluded.items()):
        print(f"   not {npn}: {rule_id} - {rules[rule_id]}")


if __name__ == "__main__":
    main()
