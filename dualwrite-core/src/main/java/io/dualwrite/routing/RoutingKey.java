package io.dualwrite.routing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks where a request's routing key (usually the user id) is found. The {@link RoutingKeyAspect} binds it
 * in {@link RoutingContext} for the method call, before the transaction opens.
 *
 * <p>On a parameter, also of an interface method such as a Spring Data repository's:
 * <pre>{@code
 * @Transactional
 * public Order create(@RoutingKey long userId, List<Item> items) { ... }
 *
 * List<Pet> findByOwnerId(@RoutingKey Integer ownerId);
 * }</pre>
 *
 * <p>On a field or a no-argument method of a class whose objects are passed as arguments, such as an
 * entity given to a repository's {@code save}: a call with such an argument (or an {@link Iterable} of
 * them with one common key) binds the member's value. A value that itself has a {@code @RoutingKey} member
 * is followed, so an association can lead to the key:
 * <pre>{@code
 * class Pet {  @RoutingKey @ManyToOne(fetch = LAZY) Owner owner;  ... }
 * class Owner { @RoutingKey @Id @GeneratedValue Integer id;  ... }
 * }</pre>
 * A field is read through its getter when it has one, so a lazy proxy gives its id without loading.
 * Binding from arguments needs the Spring Boot starter's advisor; the plain {@code @Aspect} binds
 * parameters only.
 *
 * <p>The key routes a transaction only if it is bound before the transaction takes its connection. With
 * JPA, a service's {@code @Transactional} method takes it when it begins, so a repository called inside it
 * is too late: annotate the service method's parameter, or bind the key per web request
 * ({@code dualwrite.routing.web.*}).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
public @interface RoutingKey {
}
