package io.dualwrite.samples.clinic;

import jakarta.persistence.Entity;
import jakarta.persistence.Table;

/** A pet owner: the clinic's user, and the routing key of everything under {@code /owners/{ownerId}}. */
@Entity
@Table(name = "owners")
public class Owner extends ClinicRecord {

    private String name;

    protected Owner() {
    }

    /** @param name the owner's name */
    public Owner(String name) {
        this.name = name;
    }

    /** @return the name */
    public String getName() {
        return name;
    }
}
