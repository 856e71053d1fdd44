package io.dualwrite.autoconfigure;

import io.dualwrite.verify.DualRead;
import io.dualwrite.verify.DualReadAspect;
import java.util.Objects;
import java.util.function.Supplier;
import org.aopalliance.aop.Advice;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.core.Ordered;

/**
 * Applies {@link DualReadAspect} to methods annotated {@link DualRead}: the call runs as before, and a
 * sampled share of them is compared on both stores off the request thread.
 */
public class DualReadAdvisor extends AbstractPointcutAdvisor {

    private static final long serialVersionUID = 1L;

    private final transient Pointcut pointcut = AnnotationMatchingPointcut.forMethodAnnotation(DualRead.class);
    private final transient Advice advice;

    /**
     * @param aspect supplies the aspect on first use, so that proxy creation does not build the reader
     */
    public DualReadAdvisor(Supplier<DualReadAspect> aspect) {
        Objects.requireNonNull(aspect, "aspect");
        this.advice = (MethodInterceptor) invocation -> invoke(aspect, invocation);
        setOrder(Ordered.LOWEST_PRECEDENCE);
    }

    private static Object invoke(Supplier<DualReadAspect> aspect, MethodInvocation invocation) throws Throwable {
        return aspect.get().sample(AspectInvocations.joinPoint(invocation, "@DualRead"));
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
