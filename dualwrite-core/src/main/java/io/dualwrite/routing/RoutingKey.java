package io.dualwrite.routing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the parameter that holds the request's routing key (usually the user id). The
 * {@link RoutingKeyAspect} binds it in {@link RoutingContext} for the method call, before the
 * transaction opens.
 *
 * <pre>{@code
 * @Transactional
 * public Order create(@RoutingKey long userId, List<Item> items) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface RoutingKey {
}
