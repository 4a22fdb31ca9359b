"""initial: the whole domain model of DESIGN §2–§8, and the append-only audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:40:30.509766
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# The audit log is append-only, enforced by the database (see referral/audit/models.py).
APPEND_ONLY_TRIGGERS = {
    "sqlite": [
        """
        CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END
        """,
        """
        CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END
        """,
    ],
    "postgresql": [
        """
        CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_entries is append-only';
        END;
        $$
        """,
        """
        CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
        """,
        # TRUNCATE skips row triggers: refuse it too.
        """
        CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
        """,
    ],
}

DROP_APPEND_ONLY_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entries_no_update",
        "DROP TRIGGER IF EXISTS audit_entries_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries",
        "DROP TRIGGER IF EXISTS audit_entries_no_update_delete ON audit_entries",
        "DROP FUNCTION IF EXISTS audit_entries_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
                "read",
                "create",
                "update",
                "delete",
                "transition",
                "export",
                "login",
                "login_failed",
                "anonymise",
                name="audit_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("remote_addr", sa.String(length=45), nullable=True),
        sa.CheckConstraint("entity <> ''", name=op.f("ck_audit_entries_entity_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_entries_entity_entity_id", ["entity", "entity_id"], unique=False)
        batch_op.create_index("ix_audit_entries_participant_id_at", ["participant_id", "at"], unique=False)

    op.create_table(
        "domains",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("datainclusion", sa.JSON(), nullable=False),
        sa.CheckConstraint("code <> ''", name=op.f("ck_domains_code_not_empty")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_domains")),
    )
    op.create_table(
        "national_networks",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.CheckConstraint("code <> '' AND name <> ''", name=op.f("ck_national_networks_not_empty")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_national_networks")),
        sa.UniqueConstraint("name", name=op.f("uq_national_networks_name")),
    )
    op.create_table(
        "reference_codes",
        sa.Column("list_name", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.CheckConstraint("list_name <> '' AND code <> ''", name=op.f("ck_reference_codes_not_empty")),
        sa.PrimaryKeyConstraint("list_name", "code", name=op.f("pk_reference_codes")),
    )
    op.create_table(
        "territories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("region", sa.String(length=120), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("convergence_since", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint("slug <> '' AND slug = lower(slug)", name=op.f("ck_territories_slug_lowercase")),
        sa.CheckConstraint(
            "convergence_since IS NULL OR convergence_since BETWEEN 2000 AND 2100",
            name=op.f("ck_territories_convergence_since_plausible"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territories")),
        sa.UniqueConstraint("slug", name=op.f("uq_territories_slug")),
    )
    op.create_table(
        "domain_subtypes",
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=160), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("datainclusion", sa.JSON(), nullable=False),
        sa.CheckConstraint("code <> ''", name=op.f("ck_domain_subtypes_code_not_empty")),
        sa.ForeignKeyConstraint(
            ["domain_code"],
            ["domains.code"],
            name=op.f("fk_domain_subtypes_domain_code_domains"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_domain_subtypes")),
    )
    with op.batch_alter_table("domain_subtypes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_domain_subtypes_domain_code"), ["domain_code"], unique=False)

    op.create_table(
        "structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=True),
        sa.Column("town", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=120), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("carries_cvg", sa.Boolean(), nullable=False),
        sa.Column("carries_phc", sa.Boolean(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint("name <> '' AND town <> ''", name=op.f("ck_structures_name_town_not_empty")),
        sa.CheckConstraint("carries_cvg OR carries_phc", name=op.f("ck_structures_carries_a_programme")),
        sa.CheckConstraint("siret IS NULL OR length(siret) = 14", name=op.f("ck_structures_siret_length")),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_structures_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structures")),
        sa.UniqueConstraint("key", name=op.f("uq_structures_key")),
        sa.UniqueConstraint("name", "town", name=op.f("uq_structures_name_town")),
    )
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_structures_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=160), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "cip", "cp", "coordinator", "admin", name="role", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("last_login_at", referral.db.UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(role = 'cip' AND structure_id IS NOT NULL AND territory_id IS NULL) OR (role IN ('cp', 'coordinator') AND territory_id IS NOT NULL AND structure_id IS NULL) OR (role = 'admin' AND territory_id IS NULL AND structure_id IS NULL)",
            name=op.f("ck_users_scope_matches_role"),
        ),
        sa.CheckConstraint(
            "email = lower(email) AND email LIKE '%_@_%'", name=op.f("ck_users_email_normalised")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_users_structure_id_structures"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_users_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_structure_id"), ["structure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "cp_domains",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_code"],
            ["domains.code"],
            name=op.f("fk_cp_domains_domain_code_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cp_domains_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "domain_code", name=op.f("pk_cp_domains")),
    )
    op.create_table(
        "network_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("held_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("other_attendees", sa.Text(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("agenda_built_at", referral.db.UtcDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_network_meetings_title_not_empty")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_network_meetings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_network_meetings_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_meetings")),
    )
    with op.batch_alter_table("network_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_meetings_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("referent_id", sa.Integer(), nullable=True),
        sa.Column("first_name", sa.String(length=120), nullable=False),
        sa.Column("last_name", sa.String(length=120), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column(
            "programme",
            sa.Enum("CVG", "PHC", name="programme", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("housing_status", sa.String(length=60), nullable=False),
        sa.Column("health_coverage", sa.String(length=60), nullable=False),
        sa.Column("residence_status", sa.String(length=60), nullable=False),
        sa.Column("residence_permit_expires_on", sa.Date(), nullable=True),
        sa.Column("language_level", sa.String(length=10), nullable=True),
        sa.Column("driving_licence", sa.Boolean(), nullable=False),
        sa.Column("household_size", sa.Integer(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("monthly_resources", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("anonymised_at", referral.db.UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "first_name <> '' AND last_name <> ''", name=op.f("ck_participants_names_not_empty")
        ),
        sa.CheckConstraint("birth_date < entered_on", name=op.f("ck_participants_born_before_entry")),
        sa.CheckConstraint(
            "children >= 0 AND children < household_size", name=op.f("ck_participants_children_in_household")
        ),
        sa.CheckConstraint("household_size >= 1", name=op.f("ck_participants_household_size_positive")),
        sa.CheckConstraint(
            "monthly_resources IS NULL OR monthly_resources >= 0",
            name=op.f("ck_participants_resources_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["referent_id"], ["users.id"], name=op.f("fk_participants_referent_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_participants_structure_id_structures"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participants_referent_id"), ["referent_id"], unique=False)
        batch_op.create_index(
            "ix_participants_structure_id_last_name", ["structure_id", "last_name"], unique=False
        )

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("town", sa.String(length=120), nullable=True),
        sa.Column("national_network_code", sa.String(length=60), nullable=True),
        sa.Column("convention_signed_on", sa.Date(), nullable=True),
        sa.Column("convention_ends_on", sa.Date(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint("name <> ''", name=op.f("ck_partners_name_not_empty")),
        sa.CheckConstraint(
            "convention_ends_on IS NULL OR convention_signed_on IS NULL OR convention_ends_on >= convention_signed_on",
            name=op.f("ck_partners_convention_dates_ordered"),
        ),
        sa.CheckConstraint("siret IS NULL OR length(siret) = 14", name=op.f("ck_partners_siret_length")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_partners_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["national_network_code"],
            ["national_networks.code"],
            name=op.f("fk_partners_national_network_code_national_networks"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("key", name=op.f("uq_partners_key")),
        sa.UniqueConstraint("siret", name=op.f("uq_partners_siret")),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partners_national_network_code"), ["national_network_code"], unique=False
        )
        batch_op.create_index("ix_partners_town_name", ["town", "name"], unique=False)

    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("cp_id", sa.Integer(), nullable=True),
        sa.Column("domain_code", sa.String(length=40), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=60), nullable=False),
        sa.Column("attendance_count", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("theme <> ''", name=op.f("ck_workshops_theme_not_empty")),
        sa.CheckConstraint(
            "attendance_count IS NULL OR attendance_count >= 0", name=op.f("ck_workshops_attendance_positive")
        ),
        sa.ForeignKeyConstraint(
            ["cp_id"], ["users.id"], name=op.f("fk_workshops_cp_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["domain_code"],
            ["domains.code"],
            name=op.f("fk_workshops_domain_code_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_workshops_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workshops_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("built", "added", name="agenda_item_source", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_agenda_items_title_not_empty")),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["network_meetings.id"],
            name=op.f("fk_agenda_items_meeting_id_network_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
        sa.UniqueConstraint("meeting_id", "position", name=op.f("uq_agenda_items_meeting_id_position")),
    )
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("written_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint("body <> ''", name=op.f("ck_case_notes_body_not_empty")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_case_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["domain_code"],
            ["domains.code"],
            name=op.f("fk_case_notes_domain_code_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_case_notes_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "case_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("from_structure_id", sa.Integer(), nullable=False),
        sa.Column("to_structure_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "accepted",
                "refused",
                "cancelled",
                name="transfer_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("consent_given_on", sa.Date(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", referral.db.UtcDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(state = 'requested') = (decided_at IS NULL)",
            name=op.f("ck_case_transfers_decided_at_iff_decided"),
        ),
        sa.CheckConstraint(
            "from_structure_id <> to_structure_id", name=op.f("ck_case_transfers_different_structures")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_case_transfers_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_structure_id"],
            ["structures.id"],
            name=op.f("fk_case_transfers_from_structure_id_structures"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_case_transfers_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_case_transfers_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_structure_id"],
            ["structures.id"],
            name=op.f("fk_case_transfers_to_structure_id_structures"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
    )
    with op.batch_alter_table("case_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_transfers_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column(
            "recipient",
            sa.Enum(
                "cp",
                "external_referent",
                "partner",
                name="consent_recipient",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column(
            "data_category",
            sa.Enum(
                "situation",
                "resources",
                "health",
                name="data_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "partner_id IS NULL OR recipient = 'partner'",
            name=op.f("ck_consents_partner_only_for_partner_recipient"),
        ),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on > given_on", name=op.f("ck_consents_expires_after_given")
        ),
        sa.CheckConstraint(
            "revoked_on IS NULL OR revoked_on >= given_on", name=op.f("ck_consents_revoked_after_given")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consents_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_consents_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_consents_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_participant_id_recipient", ["participant_id", "recipient"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consents_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "cddi",
                "cddi_cvg",
                "cddi_phc",
                "cdi",
                name="contract_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("employer_name", sa.String(length=200), nullable=True),
        sa.Column("weekly_hours", sa.Float(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'cdi') = (employer_name IS NOT NULL)", name=op.f("ck_contracts_employer_only_for_cdi")
        ),
        sa.CheckConstraint(
            "kind <> 'cddi_phc' OR (weekly_hours >= 4 AND weekly_hours <= 20)",
            name=op.f("ck_contracts_phc_hours_range"),
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_contracts_dates_ordered")
        ),
        sa.CheckConstraint(
            "weekly_hours > 0 AND weekly_hours <= 35", name=op.f("ck_contracts_weekly_hours_range")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_contracts_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contracts_participant_id_kind_starts_on",
            ["participant_id", "kind", "starts_on"],
            unique=False,
        )

    op.create_table(
        "exits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("exited_on", sa.Date(), nullable=False),
        sa.Column("exit_type", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("housing_status", sa.String(length=60), nullable=True),
        sa.Column("health_coverage", sa.String(length=60), nullable=True),
        sa.Column("has_treating_doctor", sa.Boolean(), nullable=True),
        sa.Column("rights_opened", sa.JSON(), nullable=False),
        sa.Column("continued_accompaniment", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_exits_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_exits_recorded_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exits")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_exits_participant_id")),
    )
    op.create_table(
        "external_referents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.CheckConstraint("name <> ''", name=op.f("ck_external_referents_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_external_referents_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_referents")),
    )
    with op.batch_alter_table("external_referents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_referents_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "health_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("has_treating_doctor", sa.Boolean(), nullable=False),
        sa.Column("treating_doctor", sa.String(length=200), nullable=True),
        sa.Column("rqth", sa.Boolean(), nullable=False),
        sa.Column("rqth_expires_on", sa.Date(), nullable=True),
        sa.Column("css", sa.Boolean(), nullable=False),
        sa.Column("css_expires_on", sa.Date(), nullable=True),
        sa.Column("addictions", sa.Text(), nullable=True),
        sa.Column("psychological_follow_up", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("updated_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_health_records_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_health_records_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_records")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_health_records_participant_id")),
    )
    op.create_table(
        "meeting_attendees",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["network_meetings.id"],
            name=op.f("fk_meeting_attendees_meeting_id_network_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_meeting_attendees_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name=op.f("pk_meeting_attendees")),
    )
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.Column("subtype_code", sa.String(length=80), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "resolved",
                name="need_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("at_entry", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolved_on IS NOT NULL)", name=op.f("ck_needs_resolved_has_date")
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 3", name=op.f("ck_needs_priority_range")),
        sa.CheckConstraint(
            "resolved_on IS NULL OR resolved_on >= opened_on", name=op.f("ck_needs_dates_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["domain_code"], ["domains.code"], name=op.f("fk_needs_domain_code_domains"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_needs_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subtype_code"],
            ["domain_subtypes.code"],
            name=op.f("fk_needs_subtype_code_domain_subtypes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "office_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("cp_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("ends_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("notes_after", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "booked_by_id IS NOT NULL OR participant_id IS NULL",
            name=op.f("ck_office_hours_participant_only_when_booked"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_office_hours_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["users.id"],
            name=op.f("fk_office_hours_booked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cp_id"], ["users.id"], name=op.f("fk_office_hours_cp_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_office_hours_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_office_hours_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_hours")),
        sa.UniqueConstraint("cp_id", "starts_at", name=op.f("uq_office_hours_cp_id_starts_at")),
    )
    with op.batch_alter_table("office_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_hours_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("answer_delay_days", sa.Integer(), nullable=False),
        sa.Column("requires_cp_validation", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("procedure", sa.Text(), nullable=True),
        sa.Column("documents_required", sa.JSON(), nullable=False),
        sa.Column("shared_categories", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "paused",
                "closed",
                name="opportunity_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("published_at", referral.db.UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_opportunities_title_not_empty")),
        sa.CheckConstraint(
            "answer_delay_days BETWEEN 1 AND 365", name=op.f("ck_opportunities_answer_delay_range")
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_opportunities_capacity_not_negative")),
        sa.CheckConstraint(
            "places_taken >= 0 AND places_taken <= capacity",
            name=op.f("ck_opportunities_places_within_capacity"),
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name=op.f("ck_opportunities_validity_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_opportunities_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["domain_code"],
            ["domains.code"],
            name=op.f("fk_opportunities_domain_code_domains"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_opportunities_partner_id_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_opportunities_territory_id_territories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("key", name=op.f("uq_opportunities_key")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_domain_code"), ["domain_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(
            "ix_opportunities_territory_id_status", ["territory_id", "status"], unique=False
        )

    op.create_table(
        "partner_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=160), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.CheckConstraint("name <> ''", name=op.f("ck_partner_contacts_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_contacts_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_contacts")),
    )
    with op.batch_alter_table("partner_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_contacts_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_territories",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "deployed",
                "in_discussion",
                name="deployment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("since", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_territories_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_partner_territories_territory_id_territories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "territory_id", name=op.f("pk_partner_territories")),
    )
    with op.batch_alter_table("partner_territories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_territories_territory_id"), ["territory_id"], unique=False
        )

    op.create_table(
        "renewal_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("accompaniment_evaluation", sa.Text(), nullable=True),
        sa.Column("mobilisation_evaluation", sa.Text(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "granted",
                "refused",
                name="renewal_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(outcome = 'pending') = (decided_on IS NULL)",
            name=op.f("ck_renewal_decisions_decided_on_iff_decided"),
        ),
        sa.CheckConstraint("motivation <> ''", name=op.f("ck_renewal_decisions_motivation_not_empty")),
        sa.CheckConstraint(
            "outcome <> 'granted' OR valid_until IS NOT NULL",
            name=op.f("ck_renewal_decisions_granted_has_end"),
        ),
        sa.CheckConstraint(
            "decided_on IS NULL OR decided_on >= requested_on",
            name=op.f("ck_renewal_decisions_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_renewal_decisions_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_renewal_decisions_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_decisions")),
    )
    with op.batch_alter_table("renewal_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_renewal_decisions_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "field IN ('territory', 'programme', 'months_in_programme', 'weekly_hours', 'age', 'residence_status', 'housing_status', 'health_coverage', 'household_size', 'children', 'monthly_resources', 'language_level', 'driving_licence', 'rqth', 'has_need')",
            name=op.f("ck_criteria_field_in_registry"),
        ),
        sa.CheckConstraint(
            "op IN ('eq', 'in', 'not_in', 'gte', 'lte', 'between', 'has')", name=op.f("ck_criteria_op_known")
        ),
        sa.CheckConstraint("weight >= 0 AND weight <= 10", name=op.f("ck_criteria_weight_range")),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_criteria_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria")),
    )
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criteria_opportunity_id"), ["opportunity_id"], unique=False)

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("exit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "six_months",
                "twelve_months",
                name="follow_up_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=60), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(done_on IS NULL) = (outcome IS NULL)", name=op.f("ck_follow_ups_done_has_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["exit_id"], ["exits.id"], name=op.f("fk_follow_ups_exit_id_exits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_follow_ups_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_follow_ups_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("exit_id", "kind", name=op.f("uq_follow_ups_exit_id_kind")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_follow_ups_due_on_done_on", ["due_on", "done_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "opportunity_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revised_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("revised_by_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_revisions_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revised_by_id"],
            ["users.id"],
            name=op.f("fk_opportunity_revisions_revised_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunity_revisions")),
    )
    with op.batch_alter_table("opportunity_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_revisions_opportunity_id"), ["opportunity_id"], unique=False
        )

    op.create_table(
        "opportunity_subtypes",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("subtype_code", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_opportunity_subtypes_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subtype_code"],
            ["domain_subtypes.code"],
            name=op.f("fk_opportunity_subtypes_subtype_code_domain_subtypes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("opportunity_id", "subtype_code", name=op.f("pk_opportunity_subtypes")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "needs_info",
                "sent",
                "waitlisted",
                "accepted",
                "started",
                "closed",
                "declined",
                "refused",
                "expired",
                "cancelled",
                "abandoned",
                name="referral_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("shared_dossier", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=60), nullable=True),
        sa.Column("created_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("updated_at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("waiting_since", referral.db.UtcDateTime(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_referrals_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_referrals_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_referrals_opportunity_id_opportunities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_referrals_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_opportunity_id_state", ["opportunity_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_participant_id"), ["participant_id"], unique=False)
        batch_op.create_index(
            "uq_referrals_active_participant_opportunity",
            ["participant_id", "opportunity_id"],
            unique=True,
            sqlite_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'sent', 'waitlisted', 'accepted', 'started')"
            ),
            postgresql_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'sent', 'waitlisted', 'accepted', 'started')"
            ),
        )

    op.create_table(
        "referral_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "draft",
                "submitted",
                "needs_info",
                "sent",
                "waitlisted",
                "accepted",
                "started",
                "closed",
                "declined",
                "refused",
                "expired",
                "cancelled",
                "abandoned",
                name="from_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "draft",
                "submitted",
                "needs_info",
                "sent",
                "waitlisted",
                "accepted",
                "started",
                "closed",
                "declined",
                "refused",
                "expired",
                "cancelled",
                "abandoned",
                name="to_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "actor_role",
            sa.Enum(
                "cip",
                "cp",
                "coordinator",
                "admin",
                name="actor_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("at", referral.db.UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint("action <> ''", name=op.f("ck_referral_transitions_action_not_empty")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_referral_transitions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_transitions_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_transitions")),
    )
    with op.batch_alter_table("referral_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_transitions_referral_id"), ["referral_id"], unique=False
        )

    for statement in APPEND_ONLY_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table("referral_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_transitions_referral_id"))

    op.drop_table("referral_transitions")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_referrals_active_participant_opportunity",
            sqlite_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'sent', 'waitlisted', 'accepted', 'started')"
            ),
            postgresql_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'sent', 'waitlisted', 'accepted', 'started')"
            ),
        )
        batch_op.drop_index(batch_op.f("ix_referrals_participant_id"))
        batch_op.drop_index("ix_referrals_opportunity_id_state")

    op.drop_table("referrals")
    op.drop_table("opportunity_subtypes")
    with op.batch_alter_table("opportunity_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_revisions_opportunity_id"))

    op.drop_table("opportunity_revisions")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_participant_id"))
        batch_op.drop_index("ix_follow_ups_due_on_done_on")

    op.drop_table("follow_ups")
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_opportunity_id"))

    op.drop_table("criteria")
    with op.batch_alter_table("renewal_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_renewal_decisions_participant_id"))

    op.drop_table("renewal_decisions")
    with op.batch_alter_table("partner_territories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_territories_territory_id"))

    op.drop_table("partner_territories")
    with op.batch_alter_table("partner_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_contacts_partner_id"))

    op.drop_table("partner_contacts")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index("ix_opportunities_territory_id_status")
        batch_op.drop_index(batch_op.f("ix_opportunities_partner_id"))
        batch_op.drop_index(batch_op.f("ix_opportunities_domain_code"))

    op.drop_table("opportunities")
    with op.batch_alter_table("office_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_hours_territory_id"))

    op.drop_table("office_hours")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_participant_id"))

    op.drop_table("needs")
    op.drop_table("meeting_attendees")
    op.drop_table("health_records")
    with op.batch_alter_table("external_referents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_referents_participant_id"))

    op.drop_table("external_referents")
    op.drop_table("exits")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_participant_id_kind_starts_on")

    op.drop_table("contracts")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_partner_id"))
        batch_op.drop_index("ix_consents_participant_id_recipient")

    op.drop_table("consents")
    with op.batch_alter_table("case_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_transfers_participant_id"))

    op.drop_table("case_transfers")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_participant_id"))

    op.drop_table("case_notes")
    op.drop_table("agenda_items")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workshops_territory_id"))

    op.drop_table("workshops")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index("ix_partners_town_name")
        batch_op.drop_index(batch_op.f("ix_partners_national_network_code"))

    op.drop_table("partners")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_structure_id_last_name")
        batch_op.drop_index(batch_op.f("ix_participants_referent_id"))

    op.drop_table("participants")
    with op.batch_alter_table("network_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_meetings_territory_id"))

    op.drop_table("network_meetings")
    op.drop_table("cp_domains")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_territory_id"))
        batch_op.drop_index(batch_op.f("ix_users_structure_id"))

    op.drop_table("users")
    with op.batch_alter_table("structures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_structures_territory_id"))

    op.drop_table("structures")
    with op.batch_alter_table("domain_subtypes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_subtypes_domain_code"))

    op.drop_table("domain_subtypes")
    op.drop_table("territories")
    op.drop_table("reference_codes")
    op.drop_table("national_networks")
    op.drop_table("domains")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_participant_id_at")
        batch_op.drop_index("ix_audit_entries_entity_entity_id")
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))

    op.drop_table("audit_entries")
