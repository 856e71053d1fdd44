package io.dualwrite.autoconfigure;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.routing.RoutingKey;
import io.dualwrite.routing.RoutingKeyAspect;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import org.aopalliance.aop.Advice;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Binds the routing key of methods with a {@link RoutingKey} parameter or a
 * {@code @DualWrite(routingKey = ...)} for the call (and a scope without a key for other
 * {@code @DualWrite} methods), through Spring's advisor chain. Highest precedence:
 * the key must be bound before the transaction interceptor takes a connection, because that is when the
 * transaction's route is fixed.
 */
public class RoutingKeyAdvisor extends AbstractPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    private final transient RoutingKeyAspect aspect = new RoutingKeyAspect();
    private final transient Pointcut pointcut = new StaticMethodMatcherPointcut() {
        @Override
        public boolean matches(Method method, Class<?> targetClass) {
            for (Annotation[] parameter : method.getParameterAnnotations()) {
                for (Annotation annotation : parameter) {
                    if (annotation instanceof RoutingKey) {
                        return true;
                    }
                }
            }
            // Every @DualWrite method: one without a routing key still runs in a scope (see RoutingKeyAspect).
            return !AnnotatedElementUtils.findMergedRepeatableAnnotations(method, DualWrite.class).isEmpty();
        }
    };
    private final transient Advice advice = (MethodInterceptor) this::invoke;

    /** Creates the advisor, first in every advisor chain. */
    public RoutingKeyAdvisor() {
        setOrder(Ordered.HIGHEST_PRECEDENCE);
    }

    private Object invoke(MethodInvocation invocation) throws Throwable {
        return aspect.bindRoutingKey(AspectInvocations.joinPoint(invocation, "@RoutingKey"));
    }

    @Override
    public Pointcut getPointcut() {
        return pointcut;
    }

    @Override
    public Advice getAdvice() {
        return advice;
    }
}
