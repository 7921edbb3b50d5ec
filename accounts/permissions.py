"""One permission class: the request must act for a business the user belongs to, with the role the method needs."""

from rest_framework.permissions import BasePermission

from .models import Business, Role
from .selectors import membership_for

# Every member reads; admins and owners create, change and delete (keywords, QR codes).
ADMINS_WRITE = {
    "GET": Role.MEMBER,
    "HEAD": Role.MEMBER,
    "OPTIONS": Role.MEMBER,
    "POST": Role.ADMIN,
    "PUT": Role.ADMIN,
    "PATCH": Role.ADMIN,
    "DELETE": Role.ADMIN,
}


class IsBusinessMember(BasePermission):
    message = "You must be logged in as a member of a business."
    # What each HTTP method needs; a view may set `role_map` to change it.
    default_role_map = {
        "GET": Role.MEMBER,
        "HEAD": Role.MEMBER,
        "OPTIONS": Role.MEMBER,
        "POST": Role.MEMBER,
        "PUT": Role.MEMBER,
        "PATCH": Role.MEMBER,
        "DELETE": Role.ADMIN,
    }

    def has_permission(self, request, view):
        business = getattr(request._request, "business", None)
        membership = membership_for(user=request.user, business=business)
        if membership is None:
            return False
        if membership.business.status == Business.Status.DELETED:
            self.message = f"{membership.business.name} has been deleted."
            return False
        request.membership = membership
        role_map = getattr(view, "role_map", self.default_role_map)
        needed = role_map.get(request.method)
        if needed is None:
            return True  # a method this view does not offer: let the view answer 405
        if not membership.has_role(needed):
            self.message = f"This action needs the {needed} role in {membership.business.name}."
            return False
        return True
