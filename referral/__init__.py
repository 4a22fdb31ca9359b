"""Shared tool of the Convergence partnership networks: case records, referrals, partners, ecosystem.

The package root imports nothing, so that the pure engines (`referral.matching`,
`referral.network`, `referral.search`) load without Flask or a database. The application factory is
`referral.web.app.create_app`.
"""
