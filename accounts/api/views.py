from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateInputSerializer,
    ApiTokenSerializer,
    MeSerializer,
)
from core.ratelimit import by_user, rate_limit


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The authenticated user")
    def get(self, request):
        return Response(MeSerializer(request.user).data)


# A new token's secret is in the answer: no cache may keep a copy.
@method_decorator(never_cache, name="dispatch")
@extend_schema_view(get=extend_schema(summary="List your API tokens (secrets are never returned)"))
class ApiTokenListCreateView(generics.ListAPIView):
    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return selectors.api_token_list_for_user(user=self.request.user)

    @extend_schema(
        request=ApiTokenCreateInputSerializer,
        responses={201: ApiTokenCreatedSerializer},
        summary="Create an API token; the secret is in this response only",
    )
    @rate_limit("api_token_create", key=by_user)
    def post(self, request):
        serializer = ApiTokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw_token = services.api_token_create(user=request.user, **serializer.validated_data)
        token.token = raw_token
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    @extend_schema(responses=ApiTokenSerializer, summary="One of your API tokens")
    def get(self, request, token_id: int):
        token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)
        return Response(ApiTokenSerializer(token).data)

    @extend_schema(responses={204: None}, summary="Revoke an API token")
    def delete(self, request, token_id: int):
        token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
