"""scheduling: the scheduler process (`runtime`), the lease that keeps it single (`lease`), and
the scheduled jobs (`jobs`), whose bodies (`services`) call down into tasks, cases, partners and
referrals. No domain imports this package.
"""
