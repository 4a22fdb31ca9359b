"""reporting: indicators, reports and the evaluation export — aggregates, never names.

Above cases, partners and referrals (DESIGN §5), whose rows it counts; today the home-page figures
of coordinators and the national team (`overview`).
"""
