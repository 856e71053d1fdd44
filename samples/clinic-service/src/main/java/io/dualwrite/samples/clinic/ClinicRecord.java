package io.dualwrite.samples.clinic;

import jakarta.persistence.Column;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.MappedSuperclass;
import jakarta.persistence.PrePersist;
import jakarta.persistence.PreUpdate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;

/**
 * What every clinic table has: an id the database generates ({@code IDENTITY}), and the version column
 * dualwrite orders changes by ({@code gmt_modified}), set by the entity on every insert and update.
 */
@MappedSuperclass
public abstract class ClinicRecord {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "gmt_modified")
    private LocalDateTime modified;

    @PrePersist
    @PreUpdate
    void touch() {
        modified = LocalDateTime.now().truncatedTo(ChronoUnit.MILLIS);
    }

    /** @return the id the database generated */
    public Long getId() {
        return id;
    }
}
