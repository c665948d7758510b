"""progress counters kept with every report change

Revision ID: 0008_progress_counters
Revises: 0007_water_point_codes
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_progress_counters"
down_revision = "0007_water_point_codes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "progress_counter",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("reported", sa.BigInteger(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_progress_counter_campaign_id_campaign"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_progress_counter_task_id_task"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_progress_counter_unit_id_unit"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "task_id", "unit_id", name=op.f("pk_progress_counter")),
    )
    with op.batch_alter_table("progress_counter", schema=None) as batch_op:
        batch_op.create_index("ix_progress_counter_campaign_unit", ["campaign_id", "unit_id"], unique=False)
    # Counters for the campaigns already running, computed by the same rules the app keeps them with.
    from campaign.progress.counters import rebuild_counters

    rebuild_counters(op.get_bind())


def downgrade():
    with op.batch_alter_table("progress_counter", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_counter_campaign_unit")
    op.drop_table("progress_counter")
