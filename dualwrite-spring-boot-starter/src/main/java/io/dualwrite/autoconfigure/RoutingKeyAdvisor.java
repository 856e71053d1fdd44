package io.dualwrite.autoconfigure;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.routing.RoutingKey;
import io.dualwrite.routing.RoutingKeyAspect;
import java.lang.reflect.Method;
import org.aopalliance.intercept.MethodInterceptor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Binds the routing key of methods with a {@link RoutingKey} parameter, a {@code @DualWrite(routingKey = ...)},
 * or an argument whose class has a {@code @RoutingKey} member (an entity given to a Spring Data repository)
 * for the call (and a scope without a key for other {@code @DualWrite} methods), through Spring's advisor
 * chain; {@link RoutingKeyAspect} says which wins. Highest precedence:
 * the key must be bound before the transaction interceptor takes a connection, because that is when the
 * transaction's route is fixed.
 */
public class RoutingKeyAdvisor extends DefaultPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    /** Creates the advisor, first in every advisor chain. */
    public RoutingKeyAdvisor() {
        super(new RoutingKeyMethods(), interceptor(new RoutingKeyAspect()));
        setOrder(Ordered.HIGHEST_PRECEDENCE);
    }

    private static MethodInterceptor interceptor(RoutingKeyAspect aspect) {
        return invocation -> aspect.bindRoutingKey(AspectInvocations.joinPoint(invocation, "@RoutingKey"));
    }

    /**
     * Methods with a {@link RoutingKey} parameter (also on the interface they implement), methods with an
     * argument type that has a {@code @RoutingKey} member, and every {@link DualWrite} method.
     */
    private static final class RoutingKeyMethods extends StaticMethodMatcherPointcut {
        @Override
        public boolean matches(Method method, Class<?> targetClass) {
            if (method.getParameterCount() > 0 && (RoutingKeyAspect.hasRoutingKeyParameter(method)
                    || RoutingKeyAspect.bindsFromArguments(method, targetClass))) {
                return true;
            }
            // Every @DualWrite method: one without a routing key still runs in a scope (see RoutingKeyAspect).
            return !AnnotatedElementUtils.findMergedRepeatableAnnotations(method, DualWrite.class).isEmpty();
        }
    }
}
