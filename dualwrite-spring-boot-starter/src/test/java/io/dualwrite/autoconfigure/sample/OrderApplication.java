package io.dualwrite.autoconfigure.sample;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A service as teams run them: its own DataSource and DAO; dualwrite arrives with the starter and properties. */
@SpringBootApplication
public class OrderApplication {
}
