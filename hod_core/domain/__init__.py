"""The domain: codes, field validation, reader limits and the attrs models.

Agents, consumers, referrals, offers, events and account records, plus the
personal-data boundary (`disclosure`: what an agent or a consumer may see).
Imports nothing of hod_core but `hod_core.errors`: every other package
builds on it.
"""
