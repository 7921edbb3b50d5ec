"""Account pages: sign up, log in and out, password reset, invitations, and Settings (business, team, API tokens,
your own account).

Views stay thin: every change goes through accounts.services, and every object is looked up inside the current
business, so another business's id is a 404.
"""

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.dashboard import business_object, can, dashboard_view, forbidden, paginate, query_without_page
from nextalerts.http import client_ip

from . import selectors, services
from .forms import (
    AcceptInvitationForm,
    BusinessForm,
    CreateBusinessForm,
    EmailChangeForm,
    EmailLoginForm,
    EmailPasswordResetForm,
    InviteForm,
    NameForm,
    PasswordChangeForm,
    RoleForm,
    SignupForm,
    SwitchBusinessForm,
    TokenForm,
)
from .middleware import SESSION_BUSINESS_KEY
from .models import ApiToken, Business, Invitation, Membership, Role, User

logger = logging.getLogger(__name__)

BACKEND = "accounts.backends.LockoutModelBackend"
SIGNUPS_PER_IP_PER_HOUR = 10
RESETS_PER_EMAIL_PER_HOUR = 3
RESETS_PER_IP_PER_HOUR = 10


def _home():
    return reverse(settings.LOGIN_REDIRECT_URL)


def _log_in(request, user, business):
    login(request, user, backend=BACKEND)
    # After login(), which may start a new session: the business they just created or joined is the one they see.
    request.session[SESSION_BUSINESS_KEY] = business.pk


def _not_found(request, title, text, *, status=404):
    return render(request, "accounts/not_found.html", {"title": title, "text": text}, status=status)


# --- logged-out pages -------------------------------------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(_home())
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        ip = client_ip(request) or "unknown"
        if services.rate_limit_hit(scope=f"signup:{ip}", limit=SIGNUPS_PER_IP_PER_HOUR, window=timedelta(hours=1)):
            form.add_error(None, "There have been too many sign-ups from your connection. Please try again in an hour.")
        else:
            try:
                user, business = services.user_signup(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    business_name=form.cleaned_data["business_name"],
                    confirm_age=form.cleaned_data["confirm_age"],
                    accept_terms=form.cleaned_data["accept_terms"],
                    support_contact=form.cleaned_data["support_contact"],
                )
            except services.SignupError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                _log_in(request, user, business)
                messages.success(request, f"Welcome to NextAlerts! {business.name} is ready.")
                return redirect(_home())
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    authentication_form = EmailLoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = EmailPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self):
        # Links in emails point at the public address, not whatever Host header the request carried.
        return {"base_url": settings.PUBLIC_BASE_URL}

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        ip = client_ip(self.request) or "unknown"
        hour = timedelta(hours=1)
        too_many_for_email = services.rate_limit_hit(
            scope=f"reset-email:{email}", limit=RESETS_PER_EMAIL_PER_HOUR, window=hour
        )
        too_many_from_ip = services.rate_limit_hit(scope=f"reset-ip:{ip}", limit=RESETS_PER_IP_PER_HOUR, window=hour)
        if too_many_for_email or too_many_from_ip:
            # The same page as a sent email, so the form tells nobody which addresses have accounts.
            logger.warning("accounts.password-reset.throttled")
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)  # saving the password revokes the API tokens and ends every session
        services.password_reset_record(user=form.user, request=self.request)
        return response


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def no_business(request):
    if request.business is not None:
        return redirect(_home())
    form = CreateBusinessForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        business = services.business_create(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_BUSINESS_KEY] = business.pk
        messages.success(request, f"{business.name} is ready.")
        return redirect(_home())
    return render(request, "accounts/no_business.html", {"form": form})


INVITATION_GONE = (
    "This invitation link doesn't work any more: it may have expired (links last 7 days), been cancelled, or already "
    "been used. Ask the person who invited you to send a new one."
)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token):
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None:
        return _not_found(request, "This invitation has expired", INVITATION_GONE)
    context = {"invitation": invitation, "role": Role(invitation.role).label}

    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            return render(request, "accounts/invitation_accept.html", {**context, "mode": "wrong-user"}, status=403)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=request.user, request=request)
            except services.TeamError:
                return _not_found(request, "This invitation has expired", INVITATION_GONE)
            request.session[SESSION_BUSINESS_KEY] = invitation.business_id
            messages.success(request, f"You joined {invitation.business.name}.")
            return redirect(_home())
        return render(request, "accounts/invitation_accept.html", {**context, "mode": "join"})

    if User.objects.filter(email__iexact=invitation.email).exists():
        login_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
        return render(request, "accounts/invitation_accept.html", {**context, "mode": "log-in", "login_url": login_url})

    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user, _membership = services.invitation_accept_new_user(
                invitation=invitation,
                password=form.cleaned_data["password"],
                confirm_age=form.cleaned_data["confirm_age"],
                accept_terms=form.cleaned_data["accept_terms"],
                request=request,
            )
        except services.SignupError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except services.TeamError:
            return _not_found(request, "This invitation has expired", INVITATION_GONE)
        else:
            _log_in(request, user, invitation.business)
            messages.success(request, f"Welcome! You joined {invitation.business.name}.")
            return redirect(_home())
    return render(request, "accounts/invitation_accept.html", {**context, "mode": "new-user", "form": form})


# --- Settings: the business -------------------------------------------------------------------------------------------
@never_cache
@dashboard_view("business", post="change")
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request):
    business = request.membership.business
    if request.method == "POST":
        form = BusinessForm(request.POST)
        if form.is_valid():
            try:
                services.business_update(business=business, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Your business details were saved.")
                return redirect("dashboard:settings")
    else:
        form = BusinessForm(initial={name: getattr(business, name) for name in services.BUSINESS_PROFILE_FIELDS})
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "can_edit": can(request, "business", "change"),
            "switchable": selectors.memberships_of(user=request.user),
            "section": "business",
        },
    )


@never_cache
@login_required
@require_POST
def switch_business(request):
    form = SwitchBusinessForm(request.POST)
    membership = None
    if form.is_valid():
        membership = (
            Membership.objects.select_related("business")
            .filter(user=request.user, business_id=form.cleaned_data["business"])
            .exclude(business__status=Business.Status.DELETED)
            .first()
        )
    if membership is None:
        return _not_found(request, "Business not found", "You are not a member of that business.")
    request.session[SESSION_BUSINESS_KEY] = membership.business_id
    messages.success(request, f"You are now working in {membership.business.name}.")
    target = request.POST.get("next", "")
    hosts = {request.get_host()}
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure()):
        target = _home()
    return redirect(target)


# --- Settings: the team -----------------------------------------------------------------------------------------------
@never_cache
@dashboard_view("team", post="invite")
@require_http_methods(["GET", "HEAD", "POST"])
def team(request):
    business = request.membership.business
    form = InviteForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            invitation, token = services.invitation_create(
                business=business,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                request=request,
            )
        except services.TeamError as exc:
            form.add_error(exc.field, exc.message)
        else:
            if services.invitation_send(invitation=invitation, token=token):
                days = Invitation.VALID_FOR.days
                messages.success(request, f"Invitation sent to {invitation.email}. The link works for {days} days.")
            else:
                messages.warning(
                    request,
                    f"We couldn't email {invitation.email}. Send them this link yourself: "
                    f"{services.invitation_link(token=token)}",
                )
            return redirect("dashboard:team")
    is_owner = can(request, "team", "invite")
    return render(
        request,
        "accounts/team.html",
        {
            "form": form,
            "members": selectors.team_members(business=business),
            "invitations": selectors.invitations_pending(business=business) if is_owner else [],
            "roles": Role.choices,
            # The last owner cannot leave (the service refuses too): the page says so before the click.
            "sole_owner": is_owner and selectors.owners_count(business=business) == 1,
            "section": "team",
        },
    )


@dashboard_view("team", "change_role")
@require_POST
def team_role(request, pk):
    membership = business_object(request, Membership.objects.select_related("user", "business"), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin or member.")
        return redirect("dashboard:team")
    try:
        services.membership_change_role(membership=membership, role=form.cleaned_data["role"], request=request)
    except services.TeamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.email} is now {Role(membership.role).label.lower()}.")
    return redirect("dashboard:team")


@dashboard_view("team", "leave")
@require_POST
def team_remove(request, pk):
    membership = business_object(request, Membership.objects.select_related("user", "business"), pk=pk)
    leaving = membership.user_id == request.user.pk
    if not leaving and not can(request, "team", "remove"):
        return forbidden(request, "team", "remove")
    try:
        services.membership_remove(membership=membership, request=request)
    except services.TeamError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:team")
    if leaving:
        request.session.pop(SESSION_BUSINESS_KEY, None)
        messages.success(request, f"You left {membership.business.name}.")
        return redirect(_home())
    messages.success(request, f"{membership.user.email} no longer has access to {membership.business.name}.")
    return redirect("dashboard:team")


@dashboard_view("invitations", "cancel")
@require_POST
def invitation_cancel(request, pk):
    invitation = business_object(request, Invitation, pk=pk, accepted_at__isnull=True)
    services.invitation_cancel(invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} was cancelled; its link no longer works.")
    return redirect("dashboard:team")


# --- Settings: API tokens ---------------------------------------------------------------------------------------------
@never_cache
@dashboard_view("api_tokens", post="create")
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request):
    business = request.membership.business
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        token, secret = services.api_token_create(
            user=request.user, business=business, name=form.cleaned_data["name"], ttl=form.ttl, request=request
        )
        # The secret is rendered in this response only and kept nowhere else, so it cannot be shown again.
        return render(request, "accounts/token_created.html", {"token": token, "secret": secret, "section": "tokens"})
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "page": paginate(request, selectors.api_tokens_for(business=business)),
            "query": query_without_page(request),
            "now": timezone.now(),
            "section": "tokens",
        },
    )


@dashboard_view("api_tokens", "revoke")
@require_POST
def token_revoke(request, key):
    token = business_object(request, ApiToken, token_key=key[:64])
    services.api_token_revoke(token=token, request=request)
    label = f"“{token.name}”" if token.name else "The token"
    messages.success(request, f"{label} was revoked; apps using it can no longer connect.")
    return redirect("dashboard:tokens")


# --- Settings: your own account ---------------------------------------------------------------------------------------
# The address a change was asked for in this session, so the page can say a link is on its way there.
SESSION_EMAIL_PENDING_KEY = "accounts.email_change_pending"
ACCOUNT_FORMS = {"name": NameForm, "email": EmailChangeForm, "password": PasswordChangeForm}


@never_cache
@dashboard_view("account", post="change")
@require_http_methods(["GET", "HEAD", "POST"])
def account(request):
    """Every role edits their own name, email and password here, and only their own: the user is the session's."""
    user = request.user
    chosen = request.POST.get("form") if request.method == "POST" else None
    account_forms = {
        name: form_class(request.POST if name == chosen else None) for name, form_class in ACCOUNT_FORMS.items()
    }
    account_forms["name"].initial = {"full_name": user.full_name}
    form = account_forms.get(chosen)
    if form is not None and form.is_valid():
        try:
            done = _account_change(request, chosen, form.cleaned_data)
        except services.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, done)
            return redirect("dashboard:account")
    context = {f"{name}_form": form for name, form in account_forms.items()}
    return render(
        request,
        "accounts/account.html",
        {**context, "pending_email": request.session.get(SESSION_EMAIL_PENDING_KEY), "section": "account"},
    )


def _account_change(request, chosen, data) -> str:
    user = request.user
    if chosen == "name":
        services.user_name_change(user=user, full_name=data["full_name"], request=request)
        return "Your name was saved."
    if chosen == "email":
        services.user_email_change_request(
            user=user, new_email=data["new_email"], password=data["password"], request=request
        )
        new_email = data["new_email"].strip().lower()
        request.session[SESSION_EMAIL_PENDING_KEY] = new_email
        hours = int(services.EMAIL_CHANGE_VALID_FOR.total_seconds() // 3600)
        return (
            f"We sent a link to {new_email}. Your email changes when you open it (it works for {hours} hours); until "
            f"then, keep logging in with {user.email}."
        )
    revoked = services.user_password_change(
        user=user, current_password=data["current_password"], new_password=data["new_password"], request=request
    )
    update_session_auth_hash(request, user)  # this session stays; the others end with the old password
    if not revoked:
        return "Your password was changed. You were signed out everywhere else."
    tokens = "your API token was revoked" if revoked == 1 else f"your {revoked} API tokens were revoked"
    if request.membership.has_role(Role.OWNER):
        where = "create new ones in Settings → API tokens"
    else:
        where = "log in through the API for a new one"
    return f"Your password was changed. You were signed out everywhere else; {tokens} — {where}."


@never_cache
@dashboard_view("account", post="change")
@require_http_methods(["GET", "HEAD", "POST"])
def account_email_confirm(request, token):
    """The link sent to a new address: it shows the change and makes it on POST, for the account it was sent for
    only (anyone else, logged in, gets "not found")."""
    try:
        if request.method != "POST":
            new_email = services.email_change_read(user=request.user, token=token)
            return render(request, "accounts/email_confirm.html", {"new_email": new_email, "section": "account"})
        user = services.user_email_change_confirm(user=request.user, token=token, request=request)
    except services.EmailLinkError as exc:
        return _not_found(request, "This link doesn't work", exc.message, status=exc.status)
    request.session.pop(SESSION_EMAIL_PENDING_KEY, None)
    messages.success(request, f"Your email is now {user.email}. Log in with it from now on.")
    return redirect("dashboard:account")
