"""JWT authentication of the store: simplejwt's, with one flaw switch."""
import jwt
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from storeproject import flaws


class StoreJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        if flaws.on("jwt_unverified"):
            # the flaw: the claims are read without checking signature, expiry or token type
            try:
                return jwt.decode(raw_token, options={"verify_signature": False, "verify_exp": False})
            except jwt.PyJWTError as exc:
                raise InvalidToken({"detail": "Given token not valid for any token type", "messages": [str(exc)]})
        return super().get_validated_token(raw_token)
