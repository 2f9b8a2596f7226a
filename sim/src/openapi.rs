//! Validation of REST bodies against Discord's OpenAPI 3.1 spec (feature `openapi`).
