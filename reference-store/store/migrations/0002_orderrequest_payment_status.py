from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("store", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderrequest",
            name="payment_status",
            field=models.CharField(
                choices=[("unpaid", "Unpaid"), ("paid", "Paid"), ("refunded", "Refunded")],
                default="unpaid",
                max_length=20,
            ),
        ),
        # a default in the database too: rows written by SQL (bulk loads, other services) get it
        migrations.RunSQL(
            "ALTER TABLE store_orderrequest ALTER COLUMN payment_status SET DEFAULT 'unpaid'",
            "ALTER TABLE store_orderrequest ALTER COLUMN payment_status DROP DEFAULT",
        ),
    ]
