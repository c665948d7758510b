"""Office unlock of login throttling: failures before the unlock no longer slow the account down.

Revision ID: 0007_auth_hardening
Revises: 0003_reporting_water_progress
Create Date: 2026-12-02 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_auth_hardening"
down_revision = "0003_reporting_water_progress"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("login_throttle_reset_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("login_throttle_reset_at")
