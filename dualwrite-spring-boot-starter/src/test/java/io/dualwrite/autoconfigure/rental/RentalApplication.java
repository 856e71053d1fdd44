package io.dualwrite.autoconfigure.rental;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The rental service: its own DataSource and DAO, five tables; dualwrite arrives with the starter and properties. */
@SpringBootApplication
public class RentalApplication {
}
