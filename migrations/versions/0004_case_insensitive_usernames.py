"""Usernames unique ignoring case (a phone keyboard's "Village" logs in as "village"); a login session
expires at its own time (the cookie's), instead of a fixed age counted from its start.

Revision ID: 0004_case_insensitive_usernames
Revises: 0003_reporting_water_progress
Create Date: 2026-12-02 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0004_case_insensitive_usernames"
down_revision = "0003_reporting_water_progress"
branch_labels = None
depends_on = None

OLD_SESSION_DAYS = 14  # the fixed age sessions had before this revision


def upgrade():
    bind = op.get_bind()
    clashes = bind.execute(sa.text(
        "SELECT lower(username), count(*) FROM user_account GROUP BY lower(username) HAVING count(*) > 1"
    )).all()
    if clashes:
        names = ", ".join(name for name, _count in clashes)
        raise RuntimeError(
            f"These usernames exist in several spellings of capital letters: {names}. Rename all but one "
            "(flask --app wsgi shell, or the users page) and run the upgrade again."
        )
    op.create_index("uq_user_account_lower_username", "user_account", [sa.text("lower(username)")], unique=True)

    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    if bind.dialect.name == "postgresql":
        op.execute(f"UPDATE login_session SET expires_at = created_at + interval '{OLD_SESSION_DAYS} days'")
    else:
        op.execute(f"UPDATE login_session SET expires_at = datetime(created_at, '+{OLD_SESSION_DAYS} days')")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_index("uq_user_account_lower_username", table_name="user_account")
