"""The evaluation export (issue 17, point 10): one row per path for external evaluators, like those
of the 2017 and 2022 evaluations — with no name, no free text, no note and no exact date.

- **Pseudonyms.** Each row carries `person` = HMAC-SHA256(key, folded first name | last name |
  birth date) and `path` = HMAC-SHA256(key, record number). The key is given by the national team
  at each export (`referral export evaluation` reads it from the environment variable
  ``REFERRAL_EVALUATION_KEY`` or a file; the page asks for it) and is never stored: two exports
  made with the same key can be linked (the same person has the same pseudonym, also across two
  records when they left and came back), and nothing can be linked without it. The audit entry
  records a fingerprint of the key (`key_id`), not the key.
- **Coarse values.** Age band at entry, months (``YYYY-MM``) instead of dates, codes of the
  reference lists, counts and hours; never a name, a birth date, a comment or a note.
- **Objection.** Records whose person objected (`Participant.objects_to_evaluation`) are left
  out, and counted.
- **k-anonymity (k = 5).** The quasi-identifiers are the age band, the structure and the entry
  month (sex is not recorded). A row whose combination is shared by fewer than 5 rows is
  generalised step by step — entry month → entry year, then structure → territory, then age band
  → « tous âges » — and removed if still fewer than 5 share it. The export says how many rows
  were generalised and removed.
- **National team only**, and every export is audited.

The rows are read with a few grouped statements (paths, contracts, needs, referrals, follow-ups,
renewals per record), never one query per person.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from referral.audit import services as audit
from referral.audit.models import AuditAction
from referral.cases.models import (
    Contract,
    ContractKind,
    Exit,
    FollowUp,
    HealthRecord,
    Need,
    Participant,
    RenewalDecision,
    RenewalOutcome,
)
from referral.partners.models import Opportunity
from referral.reference import queries as reference
from referral.referrals.models import Referral, ReferralState
from referral.reporting.context import Context
from referral.reporting.exceptions import EvaluationExportRefused, InvalidReportRequest
from referral.reporting.phc import INSERTION, NEXT_STEP
from referral.territories.models import Role, Structure, Territory, User

K = 5
MIN_KEY_LENGTH = 16
KEY_ENVIRONMENT_VARIABLE = "REFERRAL_EVALUATION_KEY"
AGE_BANDS = ((26, "moins de 26 ans"), (36, "26 à 35 ans"), (46, "36 à 45 ans"), (56, "46 à 55 ans"))
OLDEST = "56 ans et plus"
ALL_AGES = "tous âges"

# The data dictionary: every column, in order, with what it holds (French).
DICTIONARY: tuple[tuple[str, str], ...] = (
    (
        "personne",
        "Pseudonyme de la personne : HMAC-SHA256 (clé de l'équipe nationale) des nom, prénom et "
        "date de naissance. Le même pour ses différents parcours et d'un export à l'autre avec la "
        "même clé.",
    ),
    (
        "parcours",
        "Pseudonyme du parcours (du dossier) : HMAC-SHA256 (même clé) de son numéro.",
    ),
    (
        "territoire",
        "Territoire (slug) de la structure.",
    ),
    (
        "structure",
        "Structure (code), ou « (généralisé) » quand moins de 5 parcours partageaient l'âge, la "
        "structure et le mois d'entrée.",
    ),
    (
        "programme",
        "CVG (Convergence) ou PHC (Premières Heures en Chantier).",
    ),
    (
        "tranche_age_entree",
        "Tranche d'âge à l'entrée (moins de 26, 26–35, 36–45, 46–55, 56 et plus ; « tous âges » "
        "si généralisée).",
    ),
    (
        "entree",
        "Mois d'entrée (AAAA-MM), ou année seule (AAAA) si généralisé.",
    ),
    (
        "sortie",
        "Mois de sortie (AAAA-MM) ; vide si le parcours continue.",
    ),
    (
        "duree_mois",
        "Durée du parcours en mois entiers, à la sortie ou à la date de l'export.",
    ),
    (
        "logement_entree",
        "Situation de logement à l'entrée, telle que le dossier l'indiquait à sa création "
        "(code de la liste housing_status).",
    ),
    (
        "couverture_entree",
        "Couverture maladie à l'entrée, telle que le dossier l'indiquait à sa création "
        "(code health_coverage).",
    ),
    (
        "medecin_traitant_entree",
        "Avait un médecin traitant quand le volet santé du dossier a été rempli pour la première "
        "fois (oui / non / vide : non renseigné).",
    ),
    (
        "type_sortie",
        "Type de sortie (code exit_type).",
    ),
    (
        "famille_sortie",
        "Famille de sortie DGEFP (emploi_durable, emploi_transition, sortie_positive, autre_sortie).",
    ),
    (
        "logement_sortie",
        "Situation de logement à la sortie (code housing_status).",
    ),
    (
        "couverture_sortie",
        "Couverture maladie à la sortie (code health_coverage).",
    ),
    (
        "medecin_traitant_sortie",
        "A un médecin traitant à la sortie (oui / non / vide).",
    ),
    (
        "droits_ouverts",
        "Nombre de droits ouverts enregistrés à la sortie.",
    ),
    (
        "accompagnement_poursuivi",
        "Accompagnement poursuivi après la sortie (oui / non).",
    ),
    (
        "contrats",
        "Nombre de contrats du parcours (insertion et CDI).",
    ),
    (
        "heures_depart",
        "Heures hebdomadaires du premier contrat d'insertion.",
    ),
    (
        "heures_max",
        "Le plus d'heures hebdomadaires d'un contrat d'insertion.",
    ),
    (
        "semaines_vers_20h",
        "Semaines entières de l'entrée au premier contrat de 20 h ou plus ou CDDI (hors PHC) ; "
        "vide si jamais atteint.",
    ),
    (
        "cumul_cdi",
        "Un CDI chez un employeur pendant le parcours (embauche progressive) : oui / non.",
    ),
    (
        "renouvellements_accordes",
        "Renouvellements accordés par la commission.",
    ),
    (
        "freins",
        "Domaines des freins enregistrés (codes, séparés par « ; »).",
    ),
    (
        "orientations",
        "Nombre d'orientations.",
    ),
    (
        "orientations_acceptees",
        "Orientations acceptées par le partenaire (acceptées, entrées ou clôturées).",
    ),
    (
        "orientations_refusees",
        "Orientations refusées (par le ou la CP ou par le partenaire).",
    ),
    (
        "orientations_abandonnees",
        "Orientations abandonnées par la personne.",
    ),
    (
        "domaines_acceptes",
        "Domaines des orientations acceptées (codes, séparés par « ; »).",
    ),
    (
        "issues_orientations",
        "Issues des orientations clôturées (codes referral_outcome, séparés par « ; »).",
    ),
    (
        "suivi_6_mois",
        "Résultat du suivi à 6 mois (code followup_outcome) ; « non fait » si échu sans être fait "
        "; vide sinon.",
    ),
    (
        "suivi_12_mois",
        "Résultat du suivi à 12 mois (même codage).",
    ),
)
COLUMNS = tuple(name for name, _text in DICTIONARY)


@dataclass
class EvaluationExport:
    rows: list[dict[str, Any]]
    period_label: str
    excluded_objections: int = 0
    generalised: int = 0
    removed: int = 0
    key_id: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[tuple[str, str]]:
        return [
            ("Période", self.period_label),
            ("Parcours exportés", str(len(self.rows))),
            ("Exclus (opposition de la personne)", str(self.excluded_objections)),
            (
                f"Généralisés (moins de {K} parcours partageaient âge, structure et mois d'entrée)",
                str(self.generalised),
            ),
            (f"Retirés (toujours moins de {K} après généralisation)", str(self.removed)),
            ("Empreinte de la clé", self.key_id),
        ]

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in self.rows:
            writer.writerow([_text(row[column]) for column in COLUMNS])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def dictionary_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(["colonne", "définition"])
        writer.writerows(DICTIONARY)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def to_xlsx(self) -> bytes:
        workbook = Workbook()
        readme = workbook.active
        assert readme is not None
        readme.title = "Lisez-moi"
        readme.append(["Export pour l'évaluation du programme Convergence"])
        readme["A1"].font = Font(bold=True, size=14)
        for name, value in self.summary():
            readme.append([name, value])
        readme.append([])
        for note in self.notes:
            readme.append([note])
        readme.column_dimensions["A"].width = 80
        readme.column_dimensions["B"].width = 40
        data = workbook.create_sheet("Données")
        data.append(list(COLUMNS))
        for cell in data[1]:
            cell.font = Font(bold=True)
        for row in self.rows:
            data.append([row[column] for column in COLUMNS])
        data.freeze_panes = "A2"
        dictionary = workbook.create_sheet("Dictionnaire")
        dictionary.append(["Colonne", "Définition"])
        for cell in dictionary[1]:
            cell.font = Font(bold=True)
        for name, text in DICTIONARY:
            dictionary.append([name, text])
        dictionary.column_dimensions["A"].width = 28
        dictionary.column_dimensions["B"].width = 120
        for row in dictionary.iter_rows(min_row=2):
            row[1].alignment = Alignment(wrap_text=True, vertical="top")
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def pseudonym(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def person_pseudonym(key: bytes, first_name: str, last_name: str, birth_date: date) -> str:
    return pseudonym(key, f"personne|{_fold(first_name)}|{_fold(last_name)}|{birth_date.isoformat()}")


def key_fingerprint(key: bytes) -> str:
    """A short fingerprint saying which key an export used, from which the key cannot be found."""
    return pseudonym(key, "empreinte de clé Convergence")[:12]


def age_band(birth_date: date, on: date) -> str:
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    for limit, label in AGE_BANDS:
        if age < limit:
            return label
    return OLDEST


def _months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(months, 0)


def check_key(key: str | bytes | None) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else (key or b"")
    if len(raw.strip()) < MIN_KEY_LENGTH:
        raise InvalidReportRequest(
            "La clé de pseudonymisation manque ou est trop courte.",
            errors={"key": [f"Au moins {MIN_KEY_LENGTH} caractères, gardés par l'équipe nationale."]},
        )
    return raw.strip()


def may_export(actor: User) -> bool:
    return actor.role is Role.ADMIN


def require_national_team(actor: User) -> None:
    if not may_export(actor):
        raise EvaluationExportRefused()


def evaluation_export(
    session: Session,
    actor: User,
    key: str | bytes | None,
    *,
    start: date,
    end: date,
    today: date,
    k: int = K,
) -> EvaluationExport:
    """The rows of every path under way between `start` and `end` (the national team only)."""
    require_national_team(actor)
    secret = check_key(key)
    if end < start:
        raise InvalidReportRequest(
            "La fin de la période précède son début.", errors={"to": ["La fin précède le début."]}
        )
    active = and_(Participant.entered_on <= end, Context.out_on(Exit.exited_on) >= start)
    excluded = int(
        session.scalar(
            select(func.count(Participant.id))
            .outerjoin(Exit, Exit.participant_id == Participant.id)
            .where(active, Participant.objects_to_evaluation.is_(True))
        )
        or 0
    )
    wanted = (
        select(Participant.id)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(active, Participant.objects_to_evaluation.is_(False))
    )
    base = session.execute(
        select(
            Participant.id,
            Participant.first_name,
            Participant.last_name,
            Participant.birth_date,
            Participant.programme,
            Participant.entered_on,
            Participant.housing_status_at_entry,
            Participant.health_coverage_at_entry,
            Structure.key,
            Territory.slug,
            HealthRecord.had_treating_doctor_first,
            Exit.exited_on,
            Exit.exit_type,
            Exit.housing_status,
            Exit.health_coverage,
            Exit.has_treating_doctor,
            Exit.rights_opened,
            Exit.continued_accompaniment,
        )
        .join(Structure, Structure.id == Participant.structure_id)
        .outerjoin(Territory, Territory.id == Structure.territory_id)
        .outerjoin(HealthRecord, HealthRecord.participant_id == Participant.id)
        .outerjoin(Exit, Exit.participant_id == Participant.id)
        .where(Participant.id.in_(wanted))
        .order_by(Participant.id)
    ).all()

    reached = or_(Contract.weekly_hours >= 20, Contract.kind.in_(NEXT_STEP))
    contracts = {
        pid: (int(n), first, top, reached_on, bool(cdi))
        for pid, n, first, top, reached_on, cdi in session.execute(
            select(
                Contract.participant_id,
                func.count(),
                func.min(Contract.starts_on),
                func.max(case((Contract.kind.in_(INSERTION), Contract.weekly_hours))),
                func.min(case((and_(Contract.kind.in_(INSERTION), reached), Contract.starts_on))),
                func.max(case((Contract.kind == ContractKind.CDI, 1), else_=0)),
            )
            .where(Contract.participant_id.in_(wanted))
            .group_by(Contract.participant_id)
        )
    }
    first_start = (
        select(Contract.participant_id.label("participant_id"), func.min(Contract.starts_on).label("day"))
        .where(Contract.participant_id.in_(wanted), Contract.kind.in_(INSERTION))
        .group_by(Contract.participant_id)
        .subquery()
    )
    first_hours: dict[int, float] = dict(
        session.execute(
            select(Contract.participant_id, func.min(Contract.weekly_hours))
            .join(
                first_start,
                and_(
                    first_start.c.participant_id == Contract.participant_id,
                    first_start.c.day == Contract.starts_on,
                ),
            )
            .where(Contract.kind.in_(INSERTION))
            .group_by(Contract.participant_id)
        ).all()
    )
    needs: dict[int, list[str]] = defaultdict(list)
    for pid, domain in session.execute(
        select(Need.participant_id, Need.domain_code)
        .where(Need.participant_id.in_(wanted))
        .group_by(Need.participant_id, Need.domain_code)
        .order_by(Need.participant_id, Need.domain_code)
    ):
        needs[pid].append(domain)
    referrals: dict[int, Counter[str]] = defaultdict(Counter)
    accepted_domains: dict[int, set[str]] = defaultdict(set)
    outcomes: dict[int, set[str]] = defaultdict(set)
    accepted_states = (ReferralState.ACCEPTED, ReferralState.STARTED, ReferralState.CLOSED)
    for pid, state, domain, outcome, count in session.execute(
        select(
            Referral.participant_id, Referral.state, Opportunity.domain_code, Referral.outcome, func.count()
        )
        .join(Opportunity, Opportunity.id == Referral.opportunity_id)
        .where(Referral.participant_id.in_(wanted))
        .group_by(Referral.participant_id, Referral.state, Opportunity.domain_code, Referral.outcome)
    ):
        referrals[pid]["all"] += count
        if state in accepted_states:
            referrals[pid]["accepted"] += count
            accepted_domains[pid].add(domain)
        elif state in (ReferralState.REFUSED, ReferralState.DECLINED):
            referrals[pid]["refused"] += count
        elif state is ReferralState.ABANDONED:
            referrals[pid]["abandoned"] += count
        if outcome:
            outcomes[pid].add(outcome)
    follow_ups: dict[tuple[int, str], str] = {}
    for pid, kind, outcome, due_on, done_on in session.execute(
        select(
            FollowUp.participant_id, FollowUp.kind, FollowUp.outcome, FollowUp.due_on, FollowUp.done_on
        ).where(FollowUp.participant_id.in_(wanted))
    ):
        if done_on is not None and outcome:
            follow_ups[(pid, kind.value)] = outcome
        elif due_on < today:
            follow_ups[(pid, kind.value)] = "non fait"
    renewals = dict(
        session.execute(
            select(RenewalDecision.participant_id, func.count())
            .where(
                RenewalDecision.participant_id.in_(wanted), RenewalDecision.outcome == RenewalOutcome.GRANTED
            )
            .group_by(RenewalDecision.participant_id)
        ).all()
    )
    families = {
        code: extra.get("family", "") for code, extra in reference.extras(session, "exit_type").items()
    }

    def yes_no(value: bool | None) -> str | None:
        return None if value is None else ("oui" if value else "non")

    rows = []
    for (
        pid,
        first_name,
        last_name,
        birth_date,
        programme,
        entered_on,
        housing,
        coverage,
        structure_key,
        territory_slug,
        doctor_entry,
        exited_on,
        exit_type,
        housing_exit,
        coverage_exit,
        doctor_exit,
        rights,
        continued,
    ) in base:
        n, _first_start, top, reached_on, cdi = contracts.get(pid, (0, None, None, None, False))
        counts = referrals.get(pid, Counter())
        rows.append(
            {
                "personne": person_pseudonym(secret, first_name, last_name, birth_date),
                "parcours": pseudonym(secret, f"parcours|{pid}"),
                "territoire": territory_slug or "",
                "structure": structure_key,
                "programme": programme.value,
                "tranche_age_entree": age_band(birth_date, entered_on),
                "entree": f"{entered_on:%Y-%m}",
                "sortie": f"{exited_on:%Y-%m}" if exited_on else None,
                "duree_mois": _months(entered_on, exited_on or today),
                "logement_entree": housing,
                "couverture_entree": coverage,
                "medecin_traitant_entree": yes_no(doctor_entry),
                "type_sortie": exit_type,
                "famille_sortie": families.get(exit_type) if exit_type else None,
                "logement_sortie": housing_exit,
                "couverture_sortie": coverage_exit,
                "medecin_traitant_sortie": yes_no(doctor_exit),
                "droits_ouverts": len(rights) if exited_on else None,
                "accompagnement_poursuivi": yes_no(continued) if exited_on else None,
                "contrats": n,
                "heures_depart": first_hours.get(pid),
                "heures_max": top,
                "semaines_vers_20h": (reached_on - entered_on).days // 7 if reached_on else None,
                "cumul_cdi": "oui" if cdi else "non",
                "renouvellements_accordes": int(renewals.get(pid, 0)),
                "freins": ";".join(needs.get(pid, [])),
                "orientations": counts["all"],
                "orientations_acceptees": counts["accepted"],
                "orientations_refusees": counts["refused"],
                "orientations_abandonnees": counts["abandoned"],
                "domaines_acceptes": ";".join(sorted(accepted_domains.get(pid, set()))),
                "issues_orientations": ";".join(sorted(outcomes.get(pid, set()))),
                "suivi_6_mois": follow_ups.get((pid, "six_months")),
                "suivi_12_mois": follow_ups.get((pid, "twelve_months")),
            }
        )
    kept, generalised, removed = k_anonymise(rows, k)
    export = EvaluationExport(
        rows=kept,
        period_label=f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}",
        excluded_objections=excluded,
        generalised=generalised,
        removed=removed,
        key_id=key_fingerprint(secret),
        notes=[
            "Une ligne par parcours ; ni nom, ni date de naissance, ni texte libre, ni note.",
            "Les personnes opposées à l'utilisation de leur dossier pour l'évaluation sont exclues.",
            f"Quasi-identifiants : tranche d'âge, structure, mois d'entrée ; un groupe de moins de {K} "
            "parcours est généralisé (mois → année, structure → « (généralisé) », âge → « tous âges »), "
            "puis retiré.",
            "La définition de chaque colonne est sur la feuille « Dictionnaire ».",
        ],
    )
    audit.record(
        session,
        AuditAction.EXPORT,
        entity="evaluation_export",
        details={
            "period": export.period_label,
            "rows": len(kept),
            "excluded_objections": excluded,
            "generalised": generalised,
            "removed": removed,
            "key_id": export.key_id,
        },
    )
    return export


QUASI_IDENTIFIERS = ("tranche_age_entree", "structure", "entree")


def k_anonymise(rows: list[dict[str, Any]], k: int = K) -> tuple[list[dict[str, Any]], int, int]:
    """Generalise, then remove, rows whose quasi-identifiers fewer than `k` rows share.

    Returns the rows kept, how many were generalised (kept or not) and how many removed.
    """

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in QUASI_IDENTIFIERS)

    steps = (
        ("entree", lambda row: str(row["entree"])[:4]),
        ("structure", lambda row: "(généralisé)"),
        ("tranche_age_entree", lambda row: ALL_AGES),
    )
    touched: set[int] = set()
    for column, coarser in steps:
        sizes = Counter(key(row) for row in rows)
        for index, row in enumerate(rows):
            if sizes[key(row)] < k:
                row[column] = coarser(row)
                touched.add(index)
    sizes = Counter(key(row) for row in rows)
    kept = [row for row in rows if sizes[key(row)] >= k]
    return kept, len(touched), len(rows) - len(kept)
