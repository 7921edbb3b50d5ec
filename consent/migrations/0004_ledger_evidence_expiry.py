"""On PostgreSQL, the ledger's append-only trigger also lets the retention job delete a purged business's ledger once
its evidence period is over, and nothing else.

The job states the period for its own transaction (SET LOCAL nextalerts.ledger_expiry_days); the trigger then checks,
against the database clock, that the row's business is deleted and was purged longer ago than that. Without the
setting, or for any other business, UPDATE and DELETE are refused as before, except erasing phone_number to ''.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consent_event_append_only() RETURNS trigger AS $$
DECLARE
    expiry_days text := current_setting('nextalerts.ledger_expiry_days', true);
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.phone_number = ''
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE'
       AND expiry_days ~ '^[1-9][0-9]*$'
       AND EXISTS (
           SELECT 1 FROM accounts_business b
            WHERE b.id = OLD.business_id
              AND b.status = 'deleted'
              AND b.purged_at IS NOT NULL
              AND b.purged_at < now() - make_interval(days => expiry_days::int)
       ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_consentevent is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

# consent/migrations/0002's function, unchanged: the trigger itself stays as it was created there.
PREVIOUS = """
CREATE OR REPLACE FUNCTION consent_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.phone_number = ''
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent_consentevent is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_deletion_and_audit"),
        ("consent", "0003_dashboard_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
