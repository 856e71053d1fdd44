CREATE TABLE pets (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  owner_id BIGINT NOT NULL,
  name VARCHAR(50) NOT NULL,
  gmt_modified DATETIME(3) NOT NULL,
  CONSTRAINT fk_pets_owner FOREIGN KEY (owner_id) REFERENCES owners (id)
);
