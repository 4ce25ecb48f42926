from django.urls import path

from opsdesk.reviews import views

app_name = "reviews"
urlpatterns = [
    path("tickets/<str:key>/review/start", views.start, name="start"),
    path("tickets/<str:key>/review/edit", views.edit, name="edit"),
    path("tickets/<str:key>/review/summary", views.summary, name="summary"),
    path("tickets/<str:key>/review/complete", views.complete, name="complete"),
    path("tickets/<str:key>/review/actions", views.add_action, name="add_action"),
    path("tickets/<str:key>/review/actions/<int:item_id>", views.mark, name="mark"),
    path("action-items/", views.my_action_items, name="mine"),
]
