"""The database side of the network picture: loader (snapshots in), services, precomputed national figures.

`loader` reads the tables into the frozen snapshots of the pure engine (`referral.network`), counts
only, never a participant's identity; `services` decide who may see which territory and with
which filters, and call the engine for the picture, the analytics and the exports; `models` holds
the national figures the scheduled job « network » precomputes. The engine never imports this
package (DESIGN §5: `ecosystem` sits above `referrals` and `partners`, and calls `network/`).
"""
