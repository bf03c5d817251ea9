from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from accounts import services
from accounts.models import ApiToken, User


class MeSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(source="is_email_verified")

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "email_verified", "date_joined"]


class ApiTokenSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "state", "created_at", "expires_at", "revoked_at", "last_used_at"]


class BlankIsNullDateTimeField(serializers.DateTimeField):
    """An empty string (a form's untouched field, or JSON "") counts as no value, as null does."""

    def validate_empty_values(self, data):
        return super().validate_empty_values(None if data == "" else data)


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    expires_at = BlankIsNullDateTimeField(
        required=False,
        allow_null=True,
        help_text=f"When the token stops working, in the future. Left out, empty or null: "
        f"{services.API_TOKEN_DEFAULT_LIFETIME.days} days from now, as on the settings page.",
    )
    never_expires = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="True for a token that works until it is revoked; then leave expires_at out.",
    )

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(gettext("The expiry must be in the future."))
        return value

    def validate(self, data):
        expires_at = data.get("expires_at")
        if data.pop("never_expires"):
            if expires_at is not None:
                raise serializers.ValidationError(
                    {"never_expires": [gettext("Give either never_expires or expires_at.")]}
                )
            return {**data, "expires_at": None}
        return {**data, "expires_at": expires_at or timezone.now() + services.API_TOKEN_DEFAULT_LIFETIME}


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret. Shown only in this response; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
