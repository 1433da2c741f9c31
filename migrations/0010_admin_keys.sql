-- Keys that may use the operator routes (queue, dead letters, providers, cost report).
-- An operator key is marked when it is issued; existing keys stay ordinary.
ALTER TABLE api_keys ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
