-- The clinic's own store (MariaDB), as the application has always migrated it.
CREATE TABLE owners (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(60) NOT NULL,
  gmt_modified DATETIME(3) NOT NULL
);

CREATE TABLE pets (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  owner_id BIGINT NOT NULL,
  name VARCHAR(60) NOT NULL,
  gmt_modified DATETIME(3) NOT NULL,
  CONSTRAINT fk_pets_owner FOREIGN KEY (owner_id) REFERENCES owners (id)
);

CREATE TABLE visits (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  pet_id BIGINT NOT NULL,
  description VARCHAR(200) NOT NULL,
  gmt_modified DATETIME(3) NOT NULL,
  CONSTRAINT fk_visits_pet FOREIGN KEY (pet_id) REFERENCES pets (id)
);
