"""The dashboard's "Invitations to you" block reads its invitations here, so the page that
includes it (templates/projects/_invitations_for_you.html) needs nothing in its view."""

from django import template

from projects import member_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def invitations_for_you(context):
    request = context.get("request")
    return list(member_selectors.invitation_list_for_user(user=getattr(request, "user", None)))
