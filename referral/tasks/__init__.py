"""tasks: the to-do list (« À faire ») and the notifications any domain may create.

Below cases, partners and referrals, above territories: a domain service creates a task or
notifies someone by calling down here (`services.ensure_task`, `close_tasks`, `notify`); the
scheduled jobs in `referral.scheduling` fill the same lists. Nothing here knows the domains that
call it.
"""
