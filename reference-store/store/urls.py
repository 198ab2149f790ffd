from django.urls import include, path
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from . import views
from .throttles import LoginAddressThrottle, LoginRateThrottle, RefreshRateThrottle

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("brands", views.BrandViewSet, basename="brand")
router.register("order-requests", views.OrderRequestViewSet, basename="order-request")

urlpatterns = [
    path("store/", include(router.urls)),
    path(
        "token/",
        TokenObtainPairView.as_view(throttle_classes=[LoginRateThrottle, LoginAddressThrottle]),
        name="token_obtain_pair",
    ),
    path("token/refresh/", TokenRefreshView.as_view(throttle_classes=[RefreshRateThrottle]), name="token_refresh"),
    path("health/", views.health, name="health"),
    path("live/", views.live, name="live"),
]
