package io.dualwrite.autoconfigure;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.capture.DualWrites;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
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
public class DualWriteAdvisor extends DefaultPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the advisor.
     *
     * @param aspect supplies the aspect on first use, so that proxy creation does not start the mirror
     * @param capturing whether changes are recorded at all; false in phases that mirror nothing
     */
    public DualWriteAdvisor(Supplier<DualWriteAspect> aspect, BooleanSupplier capturing) {
        super(new ComposablePointcut(AnnotationMatchingPointcut.forMethodAnnotation(DualWrite.class))
                .union(AnnotationMatchingPointcut.forMethodAnnotation(DualWrites.class)),
                interceptor(aspect, capturing));
        setOrder(Ordered.LOWEST_PRECEDENCE);
    }

    private static MethodInterceptor interceptor(Supplier<DualWriteAspect> aspect, BooleanSupplier capturing) {
        Objects.requireNonNull(aspect, "aspect");
        Objects.requireNonNull(capturing, "capturing");
        return invocation -> capturing.getAsBoolean()
                ? aspect.get().recordKeys(AspectInvocations.joinPoint(invocation, "@DualWrite"))
                : invocation.proceed();
    }
}
