"""Welcome cards (välkommenkort): the cards, their encrypted photos and the card partners.

Revision ID: 0003_cards
Revises: 0002_accounts
Create Date: 2026-12-01 13:43:37.847878

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_cards'
down_revision = '0002_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card_partners',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('benefit', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('transport', 'library', 'museum', 'course', 'other')", name=op.f('ck_card_partners_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_partners'))
    )
    op.create_table('welcome_cards',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('replaces_id', sa.Uuid(), nullable=True),
    sa.Column('issued_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("language IN ('sv', 'en', 'ar', 'uk', 'fa', 'so', 'ti')", name=op.f('ck_welcome_cards_language')),
    sa.CheckConstraint("status IN ('active', 'suspended', 'replaced', 'withdrawn')", name=op.f('ck_welcome_cards_status')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_welcome_cards_valid_range')),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_welcome_cards_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_welcome_cards_issued_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['family_members.id'], name=op.f('fk_welcome_cards_member_id_family_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaces_id'], ['welcome_cards.id'], name=op.f('fk_welcome_cards_replaces_id_welcome_cards'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_welcome_cards')),
    sa.UniqueConstraint('number', name=op.f('uq_welcome_cards_number'))
    )
    with op.batch_alter_table('welcome_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_welcome_cards_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_welcome_cards_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_welcome_cards_status_valid_until', ['status', 'valid_until'], unique=False)

    op.create_table('card_photos',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('card_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['welcome_cards.id'], name=op.f('fk_card_photos_card_id_welcome_cards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_photos')),
    sa.UniqueConstraint('card_id', name=op.f('uq_card_photos_card_id'))
    )


def downgrade():
    op.drop_table('card_photos')
    with op.batch_alter_table('welcome_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_welcome_cards_status_valid_until')
        batch_op.drop_index(batch_op.f('ix_welcome_cards_member_id'))
        batch_op.drop_index(batch_op.f('ix_welcome_cards_family_id'))

    op.drop_table('welcome_cards')
    op.drop_table('card_partners')
