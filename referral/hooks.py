"""What every process installs once, before it serves a request, runs a job or a test.

Higher rooms contribute to lower ones without the lower ones importing them (DESIGN §5):
- every write is audited (a flush event of `audit`);
- a committed change to an opportunity or its places tells this worker's matching index;
- the record's timeline, right-of-access export and anonymisation get the referrals' and the
  office hours' parts (`cases/providers.py` holds the registries);
- a meeting's agenda gets the partners' answers to referrals;
- a flush tells the caches that track no change (`versioned_cache.install`) to read their
  version key at once.
- a flush of what the indicators read drops this worker's kept indicators (`reporting/cache.py`);
- a consent withdrawn tells the CPs of the referrals that shared under it (`cases/consents.py`).

`create_app` calls `install()`, so the web workers, the scheduler and every `referral …` command
have them; the test suite calls it too. Installing twice changes nothing.
"""

from __future__ import annotations

from referral import versioned_cache
from referral.audit import services as audit
from referral.partners import record_sources as partner_record_sources
from referral.referrals import agenda, consent_watch, matching_index
from referral.referrals import record_sources as referral_record_sources
from referral.reporting import cache as reporting_cache


def install() -> None:
    audit.install()
    matching_index.install()
    agenda.install()
    referral_record_sources.install()
    partner_record_sources.install()
    versioned_cache.install()
    consent_watch.install()
    reporting_cache.install()
