from django.urls import path

from opsdesk.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("review/", views.monthly_review, name="review"),
]
