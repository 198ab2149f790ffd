from django.urls import include, path

urlpatterns = [
    path("api/", include("store.urls")),
]

handler400 = "store.errors.bad_request"
handler403 = "store.errors.permission_denied"
handler404 = "store.errors.not_found"
handler500 = "store.errors.server_error"
