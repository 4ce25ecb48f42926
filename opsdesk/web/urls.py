from django.contrib.auth import views as auth_views
from django.urls import path

from opsdesk.web.views import account, approvals, home, manage, portal, ticket, workspace

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/login/", account.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/preferences/", account.preferences, name="preferences"),
    path("language/", account.set_language, name="set_language"),
    path("tickets/", workspace.workspace, name="workspace"),
    path("tickets/views/", workspace.save_view, name="save_view"),
    path("tickets/views/<int:view_id>/delete", workspace.delete_view, name="delete_view"),
    path("tickets/<str:key>/", ticket.ticket_page, name="ticket"),
    path("tickets/<str:key>/actions/<str:action>", ticket.act, name="act"),
    path("tickets/<str:key>/edit", ticket.edit, name="edit"),
    path("tickets/<str:key>/comments", ticket.comment, name="comment"),
    path("tickets/<str:key>/steps", ticket.work_log, name="work_log"),
    path("tickets/<str:key>/attachments", ticket.attach, name="attach"),
    path("tickets/<str:key>/rating", ticket.rate, name="rate"),
    path("tickets/<str:key>/collaborators", ticket.collaborators, name="collaborators"),
    path("approvals/", approvals.inbox, name="approvals"),
    path("approvals/<str:key>", approvals.decide, name="decide"),
    path("portal/", portal.portal, name="portal"),
    path("portal/new/", portal.new_ticket, name="new_ticket"),
    path("manage/", manage.manage, name="manage"),
]
