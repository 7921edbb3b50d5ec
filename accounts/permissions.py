"""One permission class: the request must act for a business the user belongs to, with the role that the role map
(accounts/roles.py) gives the view's resource and action."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission

from .models import Business
from .roles import API_ACTIONS, forbidden_message, role_needed
from .selectors import membership_for

METHOD_ACTIONS = {
    "GET": "list",
    "HEAD": "list",
    "OPTIONS": "metadata",
    "POST": "create",
    "PUT": "update",
    "PATCH": "partial_update",
    "DELETE": "destroy",
}


class IsBusinessMember(BasePermission):
    message = "You must be logged in as a member of a business."

    def has_permission(self, request, view):
        business = getattr(request._request, "business", None)
        membership = membership_for(user=request.user, business=business)
        if membership is None:
            return False
        if membership.business.status == Business.Status.DELETED:
            self.message = f"{membership.business.name} has been deleted."
            return False
        request.membership = membership
        # A viewset names the action it is running; a plain view is read by its method.
        viewset_action = (
            getattr(view, "action", None) if hasattr(view, "action_map") else METHOD_ACTIONS.get(request.method)
        )
        if viewset_action is None:
            return True  # a method this view does not offer: let the view answer 405
        resource = getattr(view, "resource", None)
        if resource is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} names no `resource` in the role map (accounts/roles.py)."
            )
        # A view may name its own actions in the map's words (POST /messages/ is a send, a QR image is a view).
        own_actions = getattr(view, "resource_actions", {})
        action = own_actions.get(viewset_action) or API_ACTIONS.get(viewset_action, viewset_action)
        if not membership.has_role(role_needed(resource, action)):
            self.message = forbidden_message(resource=resource, action=action, business_name=membership.business.name)
            return False
        return True
