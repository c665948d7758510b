"""Office unlock of login throttling: failures before the unlock no longer slow the account down.

Revision ID: 0005_auth_hardening
Revises: 0004_case_insensitive_usernames
Create Date: 2026-12-02 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005_auth_hardening"
down_revision = "0004_case_insensitive_usernames"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("login_throttle_reset_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("login_throttle_reset_at")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode copied the table, and SQLite's reflection cannot read an expression index back:
        # put back the one 0004 made, as it was.
        op.create_index("uq_user_account_lower_username", "user_account", [sa.text("lower(username)")], unique=True)
