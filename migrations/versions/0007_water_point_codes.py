"""water point codes: a stable key shown in exports and matched on import

Revision ID: 0007_water_point_codes
Revises: 0006_idempotency_keys
Create Date: 2026-12-02 11:50:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007_water_point_codes"
down_revision = "0006_idempotency_keys"
branch_labels = None
depends_on = None

# The model's alphabet, copied so the migration stays as it was written when the model changes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _new_code() -> str:
    return "W" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def upgrade():
    with op.batch_alter_table("water_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=16), nullable=True))

    connection = op.get_bind()
    point = sa.table("water_point", sa.column("id", sa.Integer), sa.column("code", sa.String))
    ids = connection.execute(sa.select(point.c.id)).scalars().all()
    codes = set()
    while len(codes) < len(ids):
        codes.add(_new_code())
    if ids:
        connection.execute(
            point.update().where(point.c.id == sa.bindparam("point_id")).values(code=sa.bindparam("new_code")),
            [{"point_id": point_id, "new_code": code} for point_id, code in zip(ids, sorted(codes))],
        )

    with op.batch_alter_table("water_point", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_water_point_code"), ["code"])


def downgrade():
    with op.batch_alter_table("water_point", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_water_point_code"), type_="unique")
        batch_op.drop_column("code")
