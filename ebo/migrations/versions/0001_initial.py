"""Initial schema: every table of the EBO data model.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 04:38:02.758819

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('address_points',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('postal_code', sa.String(length=6), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('town', sa.String(length=100), nullable=True),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_points')),
    sa.UniqueConstraint('postal_code', 'street', name='uq_address_points_postal_code_street')
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'], unique=False)
    op.create_index(op.f('ix_audit_events_actor_id'), 'audit_events', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index(op.f('ix_audit_events_object_id'), 'audit_events', ['object_id'], unique=False)
    op.create_index('ix_audit_events_object_type_object_id', 'audit_events', ['object_type', 'object_id'], unique=False)
    op.create_table('email_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('to_addr', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_messages'))
    )
    op.create_index(op.f('ix_email_messages_kind'), 'email_messages', ['kind'], unique=False)
    op.create_table('housing_units',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=6), nullable=True),
    sa.Column('town', sa.String(length=100), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('beds', sa.Integer(), nullable=False),
    sa.Column('beds_used', sa.Integer(), nullable=False),
    sa.Column('step_free', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('beds >= 0', name=op.f('ck_housing_units_beds_nonneg')),
    sa.CheckConstraint('beds_used >= 0 AND beds_used <= beds', name=op.f('ck_housing_units_beds_used_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_units'))
    )
    op.create_table('schools',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=6), nullable=True),
    sa.Column('town', sa.String(length=100), nullable=True),
    sa.Column('municipality_code', sa.String(length=4), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('code', name=op.f('uq_schools_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('host', 'coordinator', 'caseworker', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('families',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('dossier_number', sa.String(length=20), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('needed_from', sa.Date(), nullable=False),
    sa.Column('needs_step_free', sa.Boolean(), nullable=False),
    sa.Column('pet_allergy', sa.Boolean(), nullable=False),
    sa.Column('needs_non_smoking', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('pseudonymised_at', sa.DateTime(), nullable=True),
    sa.Column('permit_decision', sa.String(length=20), nullable=True),
    sa.Column('permit_decided_on', sa.Date(), nullable=True),
    sa.CheckConstraint("permit_decision IS NULL OR permit_decision IN ('granted', 'refused')", name=op.f('ck_families_permit_decision')),
    sa.CheckConstraint("route IN ('anvisning', 'asylum_ebo', 'resident', 'other')", name=op.f('ck_families_route')),
    sa.CheckConstraint("status IN ('waiting', 'proposed', 'placed', 'moved_on')", name=op.f('ck_families_status')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_families_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_families')),
    sa.UniqueConstraint('dossier_number', name=op.f('uq_families_dossier_number'))
    )
    op.create_index(op.f('ix_families_needed_from'), 'families', ['needed_from'], unique=False)
    op.create_index('ix_families_status_needed_from', 'families', ['status', 'needed_from'], unique=False)
    op.create_table('host_households',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=6), nullable=False),
    sa.Column('town', sa.String(length=100), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('geocode_status', sa.String(length=20), nullable=False),
    sa.Column('adults_living', sa.Integer(), nullable=False),
    sa.Column('children_living', sa.Integer(), nullable=False),
    sa.Column('beds', sa.Integer(), nullable=False),
    sa.Column('rooms', sa.Integer(), nullable=False),
    sa.Column('beds_used', sa.Integer(), nullable=False),
    sa.Column('families_placed', sa.Integer(), nullable=False),
    sa.Column('max_families', sa.Integer(), nullable=False),
    sa.Column('accepts_children', sa.Boolean(), nullable=False),
    sa.Column('step_free', sa.Boolean(), nullable=False),
    sa.Column('has_pets', sa.Boolean(), nullable=False),
    sa.Column('smoking', sa.Boolean(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('available_until', sa.Date(), nullable=True),
    sa.Column('open_to_long_term_rental', sa.Boolean(), nullable=False),
    sa.Column('free_text', sa.Text(), nullable=True),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('consent_version', sa.String(length=20), nullable=True),
    sa.Column('vetting_status', sa.String(length=20), nullable=False),
    sa.Column('vetting_decided_by', sa.Uuid(), nullable=True),
    sa.Column('vetting_decided_at', sa.DateTime(), nullable=True),
    sa.Column('vetting_reason', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('last_reconfirmed_at', sa.DateTime(), nullable=True),
    sa.Column('reconfirm_reminder_sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("geocode_status IN ('ok', 'not_found', 'pending', 'manual')", name=op.f('ck_host_households_geocode_status')),
    sa.CheckConstraint("state IN ('active', 'paused', 'withdrawn')", name=op.f('ck_host_households_state')),
    sa.CheckConstraint("vetting_status IN ('registered', 'visited', 'approved', 'rejected')", name=op.f('ck_host_households_vetting_status')),
    sa.CheckConstraint('adults_living >= 0 AND children_living >= 0', name=op.f('ck_host_households_living_nonneg')),
    sa.CheckConstraint('available_until IS NULL OR available_from IS NULL OR available_until >= available_from', name=op.f('ck_host_households_available_order')),
    sa.CheckConstraint('beds >= 1 AND beds <= 20', name=op.f('ck_host_households_beds_range')),
    sa.CheckConstraint('beds_used >= 0 AND beds_used <= beds', name=op.f('ck_host_households_beds_used_range')),
    sa.CheckConstraint('families_placed >= 0 AND families_placed <= max_families', name=op.f('ck_host_households_families_placed_range')),
    sa.CheckConstraint('max_families >= 1', name=op.f('ck_host_households_max_families_pos')),
    sa.CheckConstraint('rooms >= 0', name=op.f('ck_host_households_rooms_nonneg')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_host_households_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vetting_decided_by'], ['users.id'], name=op.f('fk_host_households_vetting_decided_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_households')),
    sa.UniqueConstraint('user_id', name=op.f('uq_host_households_user_id'))
    )
    op.create_index(op.f('ix_host_households_postal_code'), 'host_households', ['postal_code'], unique=False)
    op.create_index('ix_host_households_vetting_state', 'host_households', ['vetting_status', 'state'], unique=False)
    op.create_table('matching_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('started_by', sa.Uuid(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('active_lock', sa.String(length=20), nullable=True),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('progress_message', sa.String(length=200), nullable=True),
    sa.Column('best_objective', sa.Double(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('objective', sa.Double(), nullable=True),
    sa.Column('bound', sa.Double(), nullable=True),
    sa.Column('gap', sa.Double(), nullable=True),
    sa.Column('wall_s', sa.Double(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('instance_json', sa.Text(), nullable=True),
    sa.Column('solution_json', sa.Text(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("active_lock IS NULL OR (active_lock = kind AND state IN ('queued', 'running'))", name=op.f('ck_matching_runs_active_lock_consistent')),
    sa.CheckConstraint("kind IN ('match', 'drill')", name=op.f('ck_matching_runs_kind')),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_matching_runs_state')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_matching_runs_progress_range')),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], name=op.f('fk_matching_runs_started_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_runs')),
    sa.UniqueConstraint('active_lock', name=op.f('uq_matching_runs_active_lock'))
    )
    op.create_index(op.f('ix_matching_runs_state'), 'matching_runs', ['state'], unique=False)
    op.create_table('municipality_settings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('singleton', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('target_percent', sa.Double(), nullable=False),
    sa.Column('default_max_school_km', sa.Double(), nullable=False),
    sa.Column('retention_months', sa.Integer(), nullable=False),
    sa.Column('reconfirm_months', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint('population >= 0 AND households >= 0', name=op.f('ck_municipality_settings_counts_nonneg')),
    sa.CheckConstraint('retention_months >= 1 AND reconfirm_months >= 1', name=op.f('ck_municipality_settings_months_pos')),
    sa.CheckConstraint('singleton = 1', name=op.f('ck_municipality_settings_singleton')),
    sa.CheckConstraint('target_percent > 0 AND target_percent <= 100', name=op.f('ck_municipality_settings_target_percent_range')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_municipality_settings_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipality_settings')),
    sa.UniqueConstraint('singleton', name=op.f('uq_municipality_settings_singleton'))
    )
    op.create_table('drills',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('target_persons', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_drills_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['matching_runs.id'], name=op.f('fk_drills_run_id_matching_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drills'))
    )
    op.create_index(op.f('ix_drills_run_id'), 'drills', ['run_id'], unique=False)
    op.create_index(op.f('ix_drills_year'), 'drills', ['year'], unique=False)
    op.create_table('family_members',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('school_id', sa.Uuid(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('adult', 'child')", name=op.f('ck_family_members_kind')),
    sa.CheckConstraint("school_id IS NULL OR kind = 'child'", name=op.f('ck_family_members_school_only_child')),
    sa.CheckConstraint('birth_year >= 1900 AND birth_year <= 2100', name=op.f('ck_family_members_birth_year_range')),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_family_members_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_family_members_school_id_schools'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_members'))
    )
    op.create_index(op.f('ix_family_members_family_id'), 'family_members', ['family_id'], unique=False)
    op.create_index(op.f('ix_family_members_school_id'), 'family_members', ['school_id'], unique=False)
    op.create_table('forbidden_pairs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("reason IN ('declined', 'vetoed')", name=op.f('ck_forbidden_pairs_reason')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_forbidden_pairs_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_forbidden_pairs_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['host_households.id'], name=op.f('fk_forbidden_pairs_host_id_host_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forbidden_pairs')),
    sa.UniqueConstraint('family_id', 'host_id', name='uq_forbidden_pairs_family_id_host_id')
    )
    op.create_index(op.f('ix_forbidden_pairs_host_id'), 'forbidden_pairs', ['host_id'], unique=False)
    op.create_table('health_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_health_notes_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_health_notes_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_notes')),
    sa.UniqueConstraint('family_id', name=op.f('uq_health_notes_family_id'))
    )
    op.create_table('home_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visited_by_name', sa.String(length=120), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("outcome IN ('approved', 'rejected', 'revisit')", name=op.f('ck_home_visits_outcome')),
    sa.ForeignKeyConstraint(['host_id'], ['host_households.id'], name=op.f('fk_home_visits_host_id_host_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_home_visits_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits'))
    )
    op.create_index(op.f('ix_home_visits_host_id'), 'home_visits', ['host_id'], unique=False)
    op.create_table('proposals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=True),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('child_km', sa.JSON(), nullable=False),
    sa.Column('shared_language', sa.Boolean(), nullable=True),
    sa.Column('cost', sa.Double(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('coordinator_note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('proposed', 'approved', 'rejected', 'sent', 'accepted', 'declined', 'confirmed', 'withdrawn')", name=op.f('ck_proposals_state')),
    sa.CheckConstraint('(host_id IS NOT NULL AND unit_id IS NULL) OR (host_id IS NULL AND unit_id IS NOT NULL)', name=op.f('ck_proposals_host_xor_unit')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_proposals_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_proposals_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['host_households.id'], name=op.f('fk_proposals_host_id_host_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['matching_runs.id'], name=op.f('fk_proposals_run_id_matching_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['housing_units.id'], name=op.f('fk_proposals_unit_id_housing_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    op.create_index(op.f('ix_proposals_family_id'), 'proposals', ['family_id'], unique=False)
    op.create_index(op.f('ix_proposals_host_id'), 'proposals', ['host_id'], unique=False)
    op.create_index('ix_proposals_run_id_state', 'proposals', ['run_id', 'state'], unique=False)
    op.create_index(op.f('ix_proposals_state'), 'proposals', ['state'], unique=False)
    op.create_index(op.f('ix_proposals_unit_id'), 'proposals', ['unit_id'], unique=False)
    op.create_table('placements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=True),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('proposal_id', sa.Uuid(), nullable=True),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('end_note', sa.Text(), nullable=True),
    sa.Column('confirmed_by', sa.Uuid(), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('moved_on', 'permit_stayed', 'ended_by_host', 'ended_by_family', 'other')", name=op.f('ck_placements_end_reason')),
    sa.CheckConstraint('(host_id IS NOT NULL AND unit_id IS NULL) OR (host_id IS NULL AND unit_id IS NOT NULL)', name=op.f('ck_placements_host_xor_unit')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_placements_end_after_start')),
    sa.CheckConstraint('persons >= 1', name=op.f('ck_placements_persons_pos')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_placements_confirmed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], name=op.f('fk_placements_ended_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_placements_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['host_households.id'], name=op.f('fk_placements_host_id_host_households')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_placements_proposal_id_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['housing_units.id'], name=op.f('fk_placements_unit_id_housing_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements'))
    )
    op.create_index(op.f('ix_placements_end_date'), 'placements', ['end_date'], unique=False)
    op.create_index(op.f('ix_placements_family_id'), 'placements', ['family_id'], unique=False)
    op.create_index(op.f('ix_placements_host_id'), 'placements', ['host_id'], unique=False)
    op.create_index(op.f('ix_placements_unit_id'), 'placements', ['unit_id'], unique=False)
    op.create_index('uq_placements_family_id_active', 'placements', ['family_id'], unique=True, sqlite_where=sa.text('end_date IS NULL'), postgresql_where=sa.text('end_date IS NULL'))
    op.create_table('follow_up_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('by_user', sa.Uuid(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_user'], ['users.id'], name=op.f('fk_follow_up_visits_by_user_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_follow_up_visits_placement_id_placements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_visits'))
    )
    op.create_index(op.f('ix_follow_up_visits_placement_id'), 'follow_up_visits', ['placement_id'], unique=False)
    op.create_index(op.f('ix_follow_up_visits_planned_on'), 'follow_up_visits', ['planned_on'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_follow_up_visits_planned_on'), table_name='follow_up_visits')
    op.drop_index(op.f('ix_follow_up_visits_placement_id'), table_name='follow_up_visits')
    op.drop_table('follow_up_visits')
    op.drop_index('uq_placements_family_id_active', table_name='placements', sqlite_where=sa.text('end_date IS NULL'), postgresql_where=sa.text('end_date IS NULL'))
    op.drop_index(op.f('ix_placements_unit_id'), table_name='placements')
    op.drop_index(op.f('ix_placements_host_id'), table_name='placements')
    op.drop_index(op.f('ix_placements_family_id'), table_name='placements')
    op.drop_index(op.f('ix_placements_end_date'), table_name='placements')
    op.drop_table('placements')
    op.drop_index(op.f('ix_proposals_unit_id'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_state'), table_name='proposals')
    op.drop_index('ix_proposals_run_id_state', table_name='proposals')
    op.drop_index(op.f('ix_proposals_host_id'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_family_id'), table_name='proposals')
    op.drop_table('proposals')
    op.drop_index(op.f('ix_home_visits_host_id'), table_name='home_visits')
    op.drop_table('home_visits')
    op.drop_table('health_notes')
    op.drop_index(op.f('ix_forbidden_pairs_host_id'), table_name='forbidden_pairs')
    op.drop_table('forbidden_pairs')
    op.drop_index(op.f('ix_family_members_school_id'), table_name='family_members')
    op.drop_index(op.f('ix_family_members_family_id'), table_name='family_members')
    op.drop_table('family_members')
    op.drop_index(op.f('ix_drills_year'), table_name='drills')
    op.drop_index(op.f('ix_drills_run_id'), table_name='drills')
    op.drop_table('drills')
    op.drop_table('municipality_settings')
    op.drop_index(op.f('ix_matching_runs_state'), table_name='matching_runs')
    op.drop_table('matching_runs')
    op.drop_index('ix_host_households_vetting_state', table_name='host_households')
    op.drop_index(op.f('ix_host_households_postal_code'), table_name='host_households')
    op.drop_table('host_households')
    op.drop_index('ix_families_status_needed_from', table_name='families')
    op.drop_index(op.f('ix_families_needed_from'), table_name='families')
    op.drop_table('families')
    op.drop_table('users')
    op.drop_table('schools')
    op.drop_table('housing_units')
    op.drop_index(op.f('ix_email_messages_kind'), table_name='email_messages')
    op.drop_table('email_messages')
    op.drop_index('ix_audit_events_object_type_object_id', table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_object_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_actor_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_action'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('address_points')
