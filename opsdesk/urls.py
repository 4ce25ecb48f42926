from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from opsdesk.api import api
from opsdesk.web.views import account

urlpatterns = [
    # The admin signs in on opsdesk's own page, behind the same throttle.
    path("admin/login/", account.admin_sign_in),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboards/", include("opsdesk.reports.urls")),
    path("", include("opsdesk.reviews.urls")),
    path("", include("opsdesk.web.urls")),
]

handler500 = "opsdesk.web.views.errors.server_error"
