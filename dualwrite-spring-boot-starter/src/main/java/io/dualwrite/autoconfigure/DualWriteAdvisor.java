package io.dualwrite.autoconfigure;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.capture.DualWrites;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.aopalliance.aop.Advice;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.core.Ordered;

/**
 * Applies {@link DualWriteAspect} to methods annotated {@link DualWrite} through Spring's advisor
 * chain, so it works under any auto-proxy creator (also without {@code @EnableAspectJAutoProxy}).
 *
 * <p><b>Order.</b> The aspect must run <em>inside</em> the transaction interceptor: then the keys it
 * records join the transaction's change set, OUTBOX writes them in the same transaction, and a
 * rollback drops them. Outside it, the transaction would already be over when the keys are recorded,
 * and an OUTBOX crash between the commit and the outbox insert would lose the change. So this advisor
 * has the lowest precedence, and the auto-configuration registers it after the transaction advisor,
 * which wins the tie; an application that orders its own transaction advisor must keep it above
 * {@link Ordered#LOWEST_PRECEDENCE}.
 */
public class DualWriteAdvisor extends AbstractPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    private final transient Pointcut pointcut = new ComposablePointcut(
            AnnotationMatchingPointcut.forMethodAnnotation(DualWrite.class))
            .union(AnnotationMatchingPointcut.forMethodAnnotation(DualWrites.class));
    private final transient Advice advice;

    /**
     * Creates the advisor.
     *
     * @param aspect supplies the aspect on first use, so that proxy creation does not start the mirror
     * @param capturing whether changes are recorded at all; false in phases that mirror nothing
     */
    public DualWriteAdvisor(Supplier<DualWriteAspect> aspect, BooleanSupplier capturing) {
        Objects.requireNonNull(aspect, "aspect");
        Objects.requireNonNull(capturing, "capturing");
        this.advice = new Interceptor(aspect, capturing);
        setOrder(Ordered.LOWEST_PRECEDENCE);
    }

    @Override
    public Pointcut getPointcut() {
        return pointcut;
    }

    @Override
    public Advice getAdvice() {
        return advice;
    }

    private static final class Interceptor implements MethodInterceptor {

        private final Supplier<DualWriteAspect> aspect;
        private final BooleanSupplier capturing;

        Interceptor(Supplier<DualWriteAspect> aspect, BooleanSupplier capturing) {
            this.aspect = aspect;
            this.capturing = capturing;
        }

        @Override
        public Object invoke(MethodInvocation invocation) throws Throwable {
            if (!capturing.getAsBoolean()) {
                return invocation.proceed();
            }
            return aspect.get().recordKeys(AspectInvocations.joinPoint(invocation, "@DualWrite"));
        }
    }
}
