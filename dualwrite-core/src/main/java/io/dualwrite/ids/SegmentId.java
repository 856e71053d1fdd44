package io.dualwrite.ids;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.hibernate.annotations.IdGeneratorType;

/**
 * Gives a Hibernate entity's id from the {@link SegmentIdGenerator} the application
 * {@linkplain SegmentIdGenerator#install installed} (the starter installs one with
 * {@code dualwrite.ids.segment.enabled=true}), in place of {@code @GeneratedValue}:
 * <pre>{@code
 * @Id @SegmentId("owners") private Long id;
 * }</pre>
 * The id's type must be {@code long}, {@code Long}, {@code int} or {@code Integer}. An id set before
 * {@code persist} is kept.
 */
@IdGeneratorType(SegmentIdHibernateGenerator.class)
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD})
public @interface SegmentId {

    /** @return the segment's name; by default the entity's table name */
    String value() default "";
}
