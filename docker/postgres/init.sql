-- Runs once, when the PostgreSQL volume is first created: Keycloak's own database next to Flowcrew's.
CREATE DATABASE keycloak;
\connect flowcrew
CREATE EXTENSION IF NOT EXISTS vector;
