package io.dualwrite.autoconfigure;

import org.aopalliance.intercept.MethodInvocation;
import org.aspectj.lang.ProceedingJoinPoint;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.aspectj.MethodInvocationProceedingJoinPoint;

/** Runs the core's {@code @Aspect} classes from Spring advisors: an advisor's invocation as a join point. */
final class AspectInvocations {

    private AspectInvocations() {
    }

    /**
     * @param invocation the advisor's invocation
     * @param annotation the annotation served, for the message
     * @return the invocation as an AspectJ join point
     * @throws IllegalStateException if the invocation does not come from a Spring AOP proxy
     */
    static ProceedingJoinPoint joinPoint(MethodInvocation invocation, String annotation) {
        if (!(invocation instanceof ProxyMethodInvocation proxied)) {
            throw new IllegalStateException(annotation + " on " + invocation.getMethod()
                    + " needs a Spring AOP proxy invocation, got " + invocation.getClass().getName());
        }
        return new MethodInvocationProceedingJoinPoint(proxied);
    }
}
